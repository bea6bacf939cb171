package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.it.TestModels;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Alerts end to end: the packaged server evaluating rules every second over real agents' telemetry,
 * delivering Alertmanager-format webhooks to an HTTP receiver in this test, and a rule whose ROLLBACK
 * action takes a version back from the fleet.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AlertsIT {
    static final String CLASS = "al-gateway";
    static final String MODEL = "al-classifier";
    static final String[] DEVICES = {"al-gw-1", "al-gw-2"};
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    static HttpServer receiver;
    static final List<JsonNode> received = new CopyOnWriteArrayList<>();
    static Fleet fleet;
    static Api api;
    static long v1;

    @BeforeAll
    static void start() throws IOException {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/alertmanager", ex -> {
            received.add(Api.JSON.readTree(ex.getRequestBody().readAllBytes()));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        receiver.start();
        fleet = Fleet.start("alerts", Map.of(
                "edgefleet.alerts.evaluation-interval", "1s",
                "edgefleet.alerts.default-rules", "false",
                "edgefleet.alerts.webhook-urls", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/alertmanager",
                "edgefleet.alerts.external-url", "http://edgefleet.it"));
        api = fleet.api();
        api.createDeviceClass(CLASS, 500.0);
        for (Fleet.Device d : fleet.register(CLASS, DEVICES)) {
            fleet.startAgent(d);
        }
        v1 = api.uploadModel(MODEL, TestModels.mlp(5).bytes()).path("version").asLong();
        String dep = api.deployToClass(MODEL, v1, CLASS, null).path("id").asText();
        Await.until(TIMEOUT, "v1 deployed", () -> "COMPLETED".equals(api.deployment(dep).path("status").asText()),
                () -> api.deployment(dep).toString());
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
        if (receiver != null) {
            receiver.stop(0);
        }
    }

    @Test
    @Order(1)
    void anAlertFiresAndResolvesAndTheReceiverGetsBothInAlertmanagerFormat() {
        // Any real latency is above 0.001 ms: the rule breaches as soon as telemetry of v1 arrives.
        ObjectNode rule = Api.JSON.createObjectNode().put("id", "it-latency").put("metric", "P95_LATENCY_MS")
                .put("scope", "VERSION").put("classId", CLASS).put("threshold", 0.001).put("lookbackSeconds", 6)
                .put("severity", "critical");
        api.post("/api/v1/alert-rules", rule).expect(201);
        JsonNode firing = awaitPayload("firing");
        assertEquals("4", firing.path("version").asText());
        assertEquals("{}:{alertname=\"EdgefleetLatencySloBreach\"}", firing.path("groupKey").asText());
        assertEquals("http://edgefleet.it", firing.path("externalURL").asText());
        JsonNode alert = firing.path("alerts").get(0);
        assertEquals("firing", alert.path("status").asText());
        assertEquals(CLASS, alert.path("labels").path("class").asText());
        assertEquals(Long.toString(v1), alert.path("labels").path("version").asText());
        assertEquals("critical", alert.path("labels").path("severity").asText());
        assertEquals("0001-01-01T00:00:00Z", alert.path("endsAt").asText());
        assertTrue(alert.path("annotations").path("runbook_url").asText().endsWith("EdgefleetLatencySloBreach.md"));
        assertEquals(16, alert.path("fingerprint").asText().length());
        assertEquals("FIRING", api.get("/api/v1/alerts?state=FIRING&rule=it-latency").expect(200).get(0).path("state").asText());

        // The same rule with a threshold nothing reaches: the alert resolves, same fingerprint.
        rule.put("threshold", 100_000.0);
        api.put("/api/v1/alert-rules/it-latency", rule).expect(200);
        JsonNode resolved = awaitPayload("resolved");
        JsonNode r = resolved.path("alerts").get(0);
        assertEquals("resolved", r.path("status").asText());
        assertEquals(alert.path("fingerprint").asText(), r.path("fingerprint").asText());
        assertEquals(alert.path("startsAt").asText(), r.path("startsAt").asText());
        assertNotEquals("0001-01-01T00:00:00Z", r.path("endsAt").asText());
        JsonNode history = api.get("/api/v1/alerts?rule=it-latency").expect(200);
        assertEquals(1, history.size(), "one alert, fired once, resolved once: " + history);
        assertEquals("RESOLVED", history.get(0).path("state").asText());
        api.send("DELETE", "/api/v1/alert-rules/it-latency").expect(204);
    }

    @Test
    @Order(2)
    void aRuleWithTheRollbackActionRollsTheFleetBack() {
        long v2 = api.uploadModel(MODEL, TestModels.mlp(6).bytes()).path("version").asLong();
        String dep = api.deployToClass(MODEL, v2, CLASS, null).path("id").asText();
        Await.until(TIMEOUT, "v2 deployed", () -> "COMPLETED".equals(api.deployment(dep).path("status").asText()),
                () -> api.deployment(dep).toString());
        ObjectNode rule = Api.JSON.createObjectNode().put("id", "it-rollback").put("name", "ItLatencyRollback")
                .put("metric", "P95_LATENCY_MS").put("scope", "VERSION").put("classId", CLASS).put("modelName", MODEL)
                .put("modelVersion", v2).put("threshold", 0.001).put("lookbackSeconds", 6).put("action", "ROLLBACK");
        api.post("/api/v1/alert-rules", rule).expect(201);

        Await.until(TIMEOUT, "deployment " + dep + " rolled back by the alert",
                () -> "ROLLED_BACK".equals(api.deployment(dep).path("status").asText()), () -> api.deployment(dep).toString());
        Await.until(TIMEOUT, "every device back on v" + v1, () -> {
            for (String d : DEVICES) {
                if (api.device(d).path("active").path("version").asLong() != v1) {
                    return false;
                }
            }
            return true;
        });
        JsonNode alerts = api.get("/api/v1/alerts?rule=it-rollback").expect(200);
        Log.info("rollback alert: " + alerts);
        assertEquals(1, alerts.size(), alerts.toString());
        assertEquals("rolled back deployment(s) " + dep, alerts.get(0).path("actionResult").asText());
        assertTrue(api.deployment(dep).path("rollbackReason").asText().contains("ItLatencyRollback"),
                api.deployment(dep).toString());
        // v2's telemetry leaves the lookback once the devices run v1 again: the alert resolves.
        Await.until(TIMEOUT, "the rollback alert resolved",
                () -> "RESOLVED".equals(api.get("/api/v1/alerts?rule=it-rollback").expect(200).get(0).path("state").asText()));
    }

    static JsonNode awaitPayload(String status) {
        Await.until(TIMEOUT, "a " + status + " webhook", () -> received.stream().anyMatch(p -> status.equals(p.path("status").asText())),
                () -> received.toString());
        return received.stream().filter(p -> status.equals(p.path("status").asText())).findFirst().orElseThrow();
    }
}
