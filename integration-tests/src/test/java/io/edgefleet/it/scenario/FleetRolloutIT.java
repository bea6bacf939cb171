package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.agent.Agent;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.it.Scenarios;
import io.edgefleet.it.TestModels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The acceptance test of a rollout, end to end: the packaged server, a real broker, three real agents.
 * The steps build on each other (v1 everywhere, then a v2 the agents reject on their own, then a v3 the
 * operator takes back), so they run in order on one fleet.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FleetRolloutIT {
    static final String CLASS = "it-gateway";
    static final String MODEL = "it-classifier";
    static final String[] DEVICES = {"it-gw-1", "it-gw-2", "it-gw-3"};
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    static Fleet fleet;
    static Api api;
    static long v1;

    @BeforeAll
    static void startFleet() {
        fleet = Fleet.start("rollout");
        api = fleet.api();
    }

    @AfterAll
    static void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    @Order(1)
    void aModelDeployedToAClassReachesEveryDeviceAndTheDeploymentCompletes() {
        api.createDeviceClass(CLASS, 200.0);
        for (Fleet.Device d : fleet.register(CLASS, DEVICES)) {
            fleet.startAgent(d);
        }
        Await.until(TIMEOUT, "all devices online", () -> allDevices(d -> api.device(d).path("online").asBoolean()),
                () -> devicesSummary());

        TestModels.Model mlp = TestModels.mlp(11);
        JsonNode uploaded = api.uploadModel(MODEL, mlp.bytes());
        v1 = uploaded.path("version").asLong();
        assertEquals(1, v1, "first upload of a model name is version 1: " + uploaded);

        String depId = api.deployToClass(MODEL, v1, CLASS, null).path("id").asText();
        awaitDeployment(depId, "COMPLETED");
        JsonNode dep = api.deployment(depId);
        assertEquals(DEVICES.length, dep.path("targets").size(), dep.toString());
        for (JsonNode t : dep.path("targets")) {
            assertEquals("COMMITTED", t.path("state").asText(), t.toString());
        }
        Await.until(TIMEOUT, "every device reporting telemetry for v" + v1,
                () -> allDevices(d -> telemetryVersion(d) == v1), () -> devicesSummary());
        for (String d : DEVICES) {
            Agent agent = fleet.agent(d);
            assertEquals(v1, agent.state().active().version(), d + " agent's own store");
            assertEquals(v1, api.device(d).path("active").path("version").asLong(), d + " as the server sees it");
        }
    }

    @Test
    @Order(2)
    void aVersionThatBreaksTheLatencySloIsRolledBackByTheAgentsThemselves() {
        TestModels.Model heavy = TestModels.heavy(22, Scenarios.HEAVY_SIZE, Scenarios.HEAVY_LAYERS);
        // The SLO is a quarter of what the heavy model takes on this very machine, so it breaks it on any
        // hardware; v1 (the MLP) is over ten times faster than the heavy model (TestModelsTest).
        double tightP95 = Math.max(0.5, heavy.medianLatencyMs() / 4);
        Log.info("heavy model: " + heavy.description() + ", median " + heavy.medianLatencyMs()
                + " ms on one thread; deployed with p95 SLO " + tightP95 + " ms");
        long v2 = api.uploadModel(MODEL, heavy.bytes()).path("version").asLong();
        assertEquals(v1 + 1, v2);

        ObjectNode health = Api.JSON.createObjectNode()
                .put("maxP95LatencyMs", tightP95).put("maxErrorRate", 0.05).put("windows", 2).put("minInferences", 3);
        String depId = api.deployToClass(MODEL, v2, CLASS, health).path("id").asText();

        awaitDeployment(depId, "ROLLED_BACK");
        for (JsonNode t : api.deployment(depId).path("targets")) {
            assertEquals("ROLLED_BACK", t.path("state").asText(), t.toString());
            assertEquals("LATENCY_SLO_BREACH", t.path("reason").asText(), t.toString());
        }
        Await.until(TIMEOUT, "every device back on v" + v1,
                () -> allDevices(d -> api.device(d).path("active").path("version").asLong() == v1
                        && fleet.agent(d).state().active().version() == v1), () -> devicesSummary());
        for (String d : DEVICES) {
            JsonNode rolledBack = findEvent(d, "ROLLED_BACK", depId);
            assertNotNull(rolledBack, d + " has no ROLLED_BACK event for " + depId + ": " + api.deviceEvents(d, 50));
            assertEquals("LATENCY_SLO_BREACH", rolledBack.path("reason").asText(), rolledBack.toString());
            assertTrue(rolledBack.path("detail").asText().contains("p95"), "the detail says what broke: " + rolledBack);
        }
        Await.until(TIMEOUT, "telemetry for v" + v1 + " again", () -> allDevices(d -> telemetryVersion(d) == v1),
                () -> devicesSummary());
    }

    @Test
    @Order(3)
    void anOperatorRollbackThroughRestReturnsEveryDeviceToThePreviousVersion() {
        long v3 = api.uploadModel(MODEL, TestModels.mlp(33).bytes()).path("version").asLong();
        String depId = api.deployToClass(MODEL, v3, CLASS, null).path("id").asText();
        awaitDeployment(depId, "COMPLETED");
        Await.until(TIMEOUT, "every device on v" + v3,
                () -> allDevices(d -> api.device(d).path("active").path("version").asLong() == v3), () -> devicesSummary());

        JsonNode sent = api.post("/api/v1/deployments/" + depId + "/rollback",
                Api.JSON.createObjectNode().put("reason", "integration test: operator rollback")).expect(202);
        Log.info("rollback answer: " + sent);

        Await.until(TIMEOUT, "every device back on v" + v1,
                () -> allDevices(d -> api.device(d).path("active").path("version").asLong() == v1
                        && fleet.agent(d).state().active().version() == v1), () -> devicesSummary());
        awaitDeployment(depId, "ROLLED_BACK");
        for (JsonNode t : api.deployment(depId).path("targets")) {
            assertEquals("ROLLED_BACK", t.path("state").asText(), t.toString());
            assertEquals("OPERATOR_REQUEST", t.path("reason").asText(), t.toString());
        }
        Await.until(TIMEOUT, "telemetry for v" + v1 + " after the rollback",
                () -> allDevices(d -> telemetryVersion(d) == v1), () -> devicesSummary());
    }

    // --- helpers ---

    interface DeviceCheck {
        boolean test(String deviceId);
    }

    static boolean allDevices(DeviceCheck check) {
        for (String d : DEVICES) {
            if (!check.test(d)) {
                return false;
            }
        }
        return true;
    }

    static long telemetryVersion(String deviceId) {
        return api.device(deviceId).path("lastTelemetry").path("model").path("version").asLong(-1);
    }

    static void awaitDeployment(String id, String status) {
        Await.until(TIMEOUT, "deployment " + id + " " + status,
                () -> status.equals(api.deployment(id).path("status").asText()),
                () -> api.deployment(id).toString());
    }

    static String devicesSummary() {
        List<String> out = new ArrayList<>();
        for (String d : DEVICES) {
            JsonNode n = api.device(d);
            out.add(d + "{online=" + n.path("online") + ", active=" + n.path("active").path("version")
                    + ", standby=" + n.path("standby").path("version")
                    + ", telemetry=" + n.path("lastTelemetry").path("model").path("version") + "}");
        }
        return String.join(" ", out);
    }

    /** The newest event of a type for a deployment, or null. */
    static JsonNode findEvent(String deviceId, String type, String deploymentId) {
        JsonNode events = api.deviceEvents(deviceId, 100);
        Iterable<JsonNode> list = events.isArray() ? events : events.path("events");
        return StreamSupport.stream(list.spliterator(), false)
                .filter(e -> type.equals(e.path("type").asText()) && deploymentId.equals(e.path("deploymentId").asText()))
                .findFirst()
                .orElse(null);
    }
}
