package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.it.Scenarios;
import io.edgefleet.it.TestModels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Waves end to end: the packaged server, the real broker and database, real agents. Two device classes: "slow"
 * with a p95 SLO the heavy model breaks (the halt scenario) and "gw" with a generous one (waves that advance,
 * a server killed mid-wave, pause/resume/abort). Soaks are a few seconds and telemetry windows two, so the
 * whole class runs in a few minutes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RolloutWavesIT {
    static final String SLOW = "waves-slow";
    static final String GW = "waves-gw";
    static final String MODEL = "waves-model";
    static final String[] SLOW_DEVICES = {"wv-slow-1", "wv-slow-2"};
    static final String[] GW_DEVICES = {"wv-gw-1", "wv-gw-2", "wv-gw-3"};
    static final Duration TIMEOUT = Duration.ofSeconds(Long.getLong("edgefleet.it.waves-timeout", 180));

    static Fleet fleet;
    static Api api;
    static final Map<String, Long> versions = new HashMap<>();

    @BeforeAll
    static void startFleet() {
        fleet = Fleet.start("waves");
        api = fleet.api();
    }

    @AfterAll
    static void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
    }

    /** The agent's own health window stays out of the way: the server's gates decide. */
    static ObjectNode lenientHealth() {
        return Api.JSON.createObjectNode().put("maxP95LatencyMs", 1_000_000.0).put("maxErrorRate", 0.5).put("windows", 1)
                .put("minInferences", 1);
    }

    static ObjectNode policy(int soakSeconds) {
        ObjectNode p = Api.JSON.createObjectNode();
        p.putObject("canary").put("count", 1);
        p.putObject("batches").put("size", 1);
        p.put("soakSeconds", soakSeconds);
        p.putObject("successCondition").put("minCommittedPercent", 100);
        p.putObject("gates").put("latency", true).put("maxErrorRate", 0.5).put("minWindows", 1);
        p.putObject("abort").put("minNumberOfExecutedThings", 1).put("thresholdPercentage", 50);
        p.put("targetTimeoutSeconds", 150);
        return p;
    }

    static String deploy(String classId, long version, ObjectNode policy) {
        ObjectNode body = Api.JSON.createObjectNode().put("model", MODEL).put("version", version).put("classId", classId);
        body.set("health", lenientHealth());
        if (policy != null) {
            body.set("policy", policy);
        }
        return api.post("/api/v1/deployments", body).expect(202).path("id").asText();
    }

    @Test
    @Order(1)
    void setUpTwoClassesOnVersionOne() {
        TestModels.Model heavy = TestModels.heavy(41, Scenarios.HEAVY_SIZE, Scenarios.HEAVY_LAYERS);
        double tightP95 = Math.max(0.5, heavy.medianLatencyMs() / 4);
        Log.info("heavy model " + heavy.description() + ": median " + heavy.medianLatencyMs() + " ms; class " + SLOW
                + " p95 SLO " + tightP95 + " ms");
        api.createDeviceClass(SLOW, tightP95);
        api.createDeviceClass(GW, 60_000.0);
        for (Fleet.Device d : fleet.register(SLOW, SLOW_DEVICES)) {
            fleet.startAgent(d, b -> b.inferenceIntervalMs(200));
        }
        for (Fleet.Device d : fleet.register(GW, GW_DEVICES)) {
            fleet.startAgent(d);
        }
        awaitOnline(SLOW_DEVICES);
        awaitOnline(GW_DEVICES);
        versions.put("v1", api.uploadModel(MODEL, TestModels.mlp(41).bytes()).path("version").asLong());
        versions.put("heavy", api.uploadModel(MODEL, heavy.bytes()).path("version").asLong());
        String s = deploy(SLOW, versions.get("v1"), Api.allAtOnce());
        String g = deploy(GW, versions.get("v1"), Api.allAtOnce());
        awaitStatus(s, "COMPLETED");
        awaitStatus(g, "COMPLETED");
    }

    @Test
    @Order(2)
    void aVariantThatBreaksTheLatencySloHaltsInTheCanaryAndNoOtherDeviceReceivesIt() {
        long v1 = versions.get("v1");
        long heavy = versions.get("heavy");
        String id = deploy(SLOW, heavy, policy(4));
        JsonNode created = api.deployment(id);
        assertEquals(2, created.path("waves").path("count").asInt(), created.toString());

        JsonNode dep = awaitStatus(id, "ABORTED");
        assertEquals("gate:p95LatencyMs", dep.path("halt").path("rule").asText(), dep.toString());
        assertTrue(dep.path("halt").path("detail").asText().contains("BREACHED"), dep.toString());
        JsonNode canary = target(dep, 1);
        JsonNode other = target(dep, 2);
        assertEquals(List.of(canary.path("deviceId").asText()), texts(dep.path("halt").path("devices").path("rolledBack")));
        assertEquals("CANCELLED", other.path("state").asText(), other.toString());
        assertTrue(other.path("sentAt").isMissingNode() || other.path("sentAt").isNull(), other.toString());

        String canaryId = canary.path("deviceId").asText();
        String otherId = other.path("deviceId").asText();
        Await.until(TIMEOUT, "the canary back on v" + v1, () -> fleet.agent(canaryId).state().active().version() == v1
                && "ROLLED_BACK".equals(target(api.deployment(id), 1).path("state").asText()), () -> api.deployment(id).toString());
        assertEquals(v1, api.device(canaryId).path("active").path("version").asLong());
        // the other device never heard of it: no event for the deployment, its agent never had the model
        assertTrue(eventsFor(otherId, id).isEmpty(), "events of " + otherId + ": " + eventsFor(otherId, id));
        assertEquals(v1, fleet.agent(otherId).state().active().version());
        var standby = fleet.agent(otherId).state().standby();
        assertTrue(standby == null || standby.version() != heavy, "standby of " + otherId + ": " + standby);
    }

    @Test
    @Order(3)
    void aGoodVariantAdvancesThroughEveryWave() {
        long v2 = api.uploadModel(MODEL, TestModels.mlp(42).bytes()).path("version").asLong();
        versions.put("v2", v2);
        String id = deploy(GW, v2, policy(2));
        JsonNode dep = awaitStatus(id, "COMPLETED");
        assertEquals(3, dep.path("waves").path("count").asInt(), dep.toString());
        assertEquals(3, dep.path("waves").path("current").asInt(), dep.toString());
        // wave n+1 went out only after wave n committed
        long previousCommit = 0;
        for (int w = 1; w <= 3; w++) {
            JsonNode t = target(dep, w);
            assertEquals("COMMITTED", t.path("state").asText(), t.toString());
            assertTrue(t.path("sentAt").asLong() >= previousCommit, "wave " + w + " sent before wave " + (w - 1)
                    + " committed: " + dep);
            previousCommit = committedAt(t.path("deviceId").asText(), id);
        }
        assertEquals(3, dep.path("gates").path("wave").asInt(), "the last wave was gated too: " + dep.path("gates"));
        for (String d : GW_DEVICES) {
            Await.until(TIMEOUT, d + " on v" + v2, () -> api.device(d).path("active").path("version").asLong() == v2,
                    () -> api.device(d).toString());
        }
    }

    @Test
    @Order(4)
    void aServerKilledMidWaveResumesTheRolloutAfterRestart() {
        Assumptions.assumeTrue(fleet.broker().isMosquitto(), "the embedded broker dies with the server");
        long v3 = api.uploadModel(MODEL, TestModels.mlp(43).bytes()).path("version").asLong();
        String id = deploy(GW, v3, policy(8));
        Await.until(TIMEOUT, "the canary soaking", () -> {
            JsonNode w = api.deployment(id).path("waves");
            return w.path("current").asInt() == 1 && "SOAKING".equals(w.path("phase").asText());
        }, () -> api.deployment(id).toString());
        long canarySentAt = target(api.deployment(id), 1).path("sentAt").asLong();
        fleet.killAndRestartServer();
        JsonNode after = api.deployment(id);
        // The restarted server carried on from the persisted wave (it may already have started the next one):
        // the canary was neither re-sent nor started over.
        assertTrue(List.of("IN_PROGRESS", "COMPLETED").contains(after.path("status").asText()), after.toString());
        assertTrue(after.path("waves").path("current").asInt() >= 1, after.toString());
        assertEquals("COMMITTED", target(after, 1).path("state").asText(), after.toString());
        assertEquals(canarySentAt, target(after, 1).path("sentAt").asLong(), "the canary was not sent again: " + after);
        JsonNode dep = awaitStatus(id, "COMPLETED");
        for (int w = 1; w <= 3; w++) {
            assertEquals("COMMITTED", target(dep, w).path("state").asText(), dep.toString());
        }
        for (String d : GW_DEVICES) {
            Await.until(TIMEOUT, d + " on v" + v3, () -> api.device(d).path("active").path("version").asLong() == v3,
                    () -> api.device(d).toString());
        }
        versions.put("v3", v3);
    }

    @Test
    @Order(5)
    void pauseResumeAndAbortEachDoWhatTheySay() throws InterruptedException {
        Map<String, Long> before = new HashMap<>();
        for (String d : GW_DEVICES) {
            before.put(d, fleet.agent(d).state().active().version());
        }
        long v4 = api.uploadModel(MODEL, TestModels.mlp(44).bytes()).path("version").asLong();
        String id = deploy(GW, v4, policy(10));
        // pause once the canary's command is out (what was sent goes on; nothing new starts)
        Await.until(TIMEOUT, "the canary's command sent",
                () -> !"PENDING".equals(target(api.deployment(id), 1).path("state").asText()), () -> api.deployment(id).toString());
        JsonNode paused = api.post("/api/v1/deployments/" + id + "/pause", Api.JSON.createObjectNode()).expect(200);
        assertEquals("PAUSED", paused.path("status").asText(), paused.toString());
        api.post("/api/v1/deployments/" + id + "/pause", Api.JSON.createObjectNode()).expect(409);

        // paused: the canary (already sent) finishes, but no second wave starts however long we wait
        Await.until(TIMEOUT, "the canary committed while paused",
                () -> "COMMITTED".equals(target(api.deployment(id), 1).path("state").asText()), () -> api.deployment(id).toString());
        Thread.sleep(13_000); // longer than the soak: a running deployment would have started wave 2 by now
        JsonNode still = api.deployment(id);
        assertEquals("PAUSED", still.path("status").asText(), still.toString());
        assertEquals(1, still.path("waves").path("current").asInt(), still.toString());
        assertEquals("PENDING", target(still, 2).path("state").asText(), still.toString());

        JsonNode resumed = api.post("/api/v1/deployments/" + id + "/resume", Api.JSON.createObjectNode()).expect(200);
        assertEquals("IN_PROGRESS", resumed.path("status").asText(), resumed.toString());
        Await.until(TIMEOUT, "wave 2 committed after the resume",
                () -> "COMMITTED".equals(target(api.deployment(id), 2).path("state").asText()), () -> api.deployment(id).toString());

        JsonNode aborted = api.post("/api/v1/deployments/" + id + "/abort",
                Api.JSON.createObjectNode().put("reason", "integration test abort")).expect(200);
        assertEquals("ABORTED", aborted.path("status").asText(), aborted.toString());
        assertEquals("operator", aborted.path("halt").path("rule").asText(), aborted.toString());
        api.post("/api/v1/deployments/" + id + "/resume", Api.JSON.createObjectNode()).expect(409);

        JsonNode dep = api.deployment(id);
        List<String> rolledBack = texts(dep.path("halt").path("devices").path("rolledBack"));
        assertTrue(rolledBack.contains(target(dep, 1).path("deviceId").asText()), dep.toString());
        assertTrue(rolledBack.contains(target(dep, 2).path("deviceId").asText()), dep.toString());
        String third = target(dep, 3).path("deviceId").asText();
        for (String d : rolledBack) {
            Await.until(TIMEOUT, d + " back on v" + before.get(d),
                    () -> fleet.agent(d).state().active().version() == before.get(d), () -> api.deployment(id).toString());
        }
        if (!rolledBack.contains(third)) {
            assertEquals("CANCELLED", target(dep, 3).path("state").asText(), dep.toString());
            assertNotEquals(v4, fleet.agent(third).state().active().version());
        }
        assertFalse(dep.path("waves").path("phase").isTextual(), "a finished deployment has no phase: " + dep);
    }

    // --- helpers ---

    static void awaitOnline(String... devices) {
        Await.until(TIMEOUT, "devices online", () -> {
            for (String d : devices) {
                if (!api.device(d).path("online").asBoolean()) {
                    return false;
                }
            }
            return true;
        }, () -> String.join(",", devices));
    }

    static JsonNode awaitStatus(String id, String status) {
        Await.until(TIMEOUT, "deployment " + id + " " + status,
                () -> status.equals(api.deployment(id).path("status").asText()), () -> api.deployment(id).toString());
        return api.deployment(id);
    }

    /** The (single) target of a wave in these scenarios. */
    static JsonNode target(JsonNode dep, int wave) {
        for (JsonNode t : dep.path("targets")) {
            if (t.path("wave").asInt() == wave) {
                return t;
            }
        }
        throw new AssertionError("no target in wave " + wave + ": " + dep);
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static List<JsonNode> eventsFor(String deviceId, String deploymentId) {
        JsonNode events = api.deviceEvents(deviceId, 200);
        Iterable<JsonNode> list = events.isArray() ? events : events.path("events");
        return StreamSupport.stream(list.spliterator(), false)
                .filter(e -> deploymentId.equals(e.path("deploymentId").asText())).toList();
    }

    static long committedAt(String deviceId, String deploymentId) {
        return eventsFor(deviceId, deploymentId).stream().filter(e -> "COMMITTED".equals(e.path("type").asText()))
                .mapToLong(e -> e.path("receivedAt").asLong(e.path("ts").asLong())).min()
                .orElseThrow(() -> new AssertionError(deviceId + " has no COMMITTED event for " + deploymentId));
    }
}
