package io.edgefleet.server.loop;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.server.alert.AlertService;
import io.edgefleet.server.alert.RecompressionRequestEntity;
import io.edgefleet.server.compression.DatasetEntity;
import io.edgefleet.server.compression.DatasetService;
import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.ConsoleSession;
import io.edgefleet.server.support.FakeDevice;
import io.edgefleet.server.support.TestDataDir;
import io.edgefleet.server.telemetry.TelemetryView;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;

/**
 * The closed loop end to end over the embedded broker, with Paho clients standing in for agents: a class's variant
 * goes to the fleet, an alert with the RECOMPRESS action re-plans it, the gated variant goes out as a canary through
 * the rollout waves and is promoted on committed devices with good telemetry; every step is in the audit trail.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ClosedLoopFlowTest {
    private static final JsonCodec CODEC = new JsonCodec();
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final int SAMPLES = 40;
    /** Every target at once, valid before and after waves became the default (seams.md). */
    private static final Map<String, Object> ALL_AT_ONCE = Map.of("canary", Map.of("percent", 100), "batches",
            Map.of("percent", 100), "soakSeconds", 0, "successCondition", Map.of("minCommittedPercent", 0), "gates",
            Map.of("latency", false, "energy", false));
    private static final AtomicLong SEQ = new AtomicLong();

    @Inject
    AlertService alerts;

    @Inject
    LoopService loops;

    @Inject
    DatasetService datasets;

    @Inject
    Session session;

    // ---------------------------------------------------------------- helpers

    private static byte[] npz(Map<String, NpyArray> arrays) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            Npz.write(out, arrays);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static byte[] inputs(long seed, double shift) {
        Random r = new Random(seed);
        float[] x = new float[SAMPLES * DemoModels.INPUTS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() + shift);
        }
        return npz(Map.of("input", NpyArray.ofFloats(x, SAMPLES, DemoModels.INPUTS)));
    }

    private static void upload(String name, byte[] npz) {
        api().contentType("application/octet-stream").body(npz).post("/api/v1/datasets/" + name).then().statusCode(201);
    }

    private static void createClass(String id, List<String> precisions, long maxModelBytes) {
        Map<String, Object> c = new HashMap<>(Api.deviceClass(id));
        c.put("precisions", precisions);
        c.put("slo", Map.of("p95LatencyMs", 40.0, "maxModelBytes", maxModelBytes));
        c.put("accuracyBudget", Map.of("overallPoints", 30.0, "cohortPoints", 60.0));
        json().body(c).post("/api/v1/device-classes").then().statusCode(201);
    }

    /** Plans the model for the class (tiny budget) and returns the chosen candidate id. */
    private static String plan(String model, long version, String classId, String prefix) {
        String id = json().body(Map.of("deviceClassId", classId, "validationDataset", prefix + "-valid",
                        "calibrationDataset", prefix + "-calib", "budget", Map.of("maxCandidates", 4, "latencyRuns", 3)))
                .post("/api/v1/models/" + model + "/versions/" + version + "/plans").then().statusCode(202)
                .extract().jsonPath().getString("id");
        JsonPath[] p = new JsonPath[1];
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
            p[0] = api().get("/api/v1/plans/" + id).then().statusCode(200).extract().jsonPath();
            return List.of("CHOSEN", "NO_CHOICE", "FAILED").contains(p[0].getString("status"));
        });
        assertEquals("CHOSEN", p[0].getString("status"), () -> p[0].prettify());
        return p[0].getString("choice");
    }

    private static FakeDevice online(String id, String password) throws Exception {
        FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), id, password);
        dev.subscribe(Topics.cmd(id));
        dev.publish(Topics.status(id), CODEC.encode(DeviceStatus.of(id, DeviceStatus.State.ONLINE, null, null, "t/1")),
                true);
        await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/" + id).then().body("online", equalTo(true)));
        return dev;
    }

    private static boolean gotDeploy(FakeDevice dev, String deviceId, String depId) {
        return dev.received().stream().filter(r -> r.topic().equals(Topics.cmd(deviceId)))
                .map(r -> CODEC.decode(r.payload(), Command.class))
                .anyMatch(c -> c.type() == Command.Type.DEPLOY && depId.equals(c.deploymentId()));
    }

    private static ModelRef ref(String model, long version) {
        String sha = api().get("/api/v1/models/" + model + "/versions/" + version).then().statusCode(200).extract()
                .jsonPath().getString("sha256");
        return new ModelRef(model, version, sha);
    }

    /** The device takes the deployment as an agent would: activated, then committed. */
    private static void commit(FakeDevice dev, String deviceId, String depId, ModelRef ref) throws Exception {
        await().atMost(WAIT).until(() -> gotDeploy(dev, deviceId, depId));
        for (DeviceEvent.Type t : List.of(DeviceEvent.Type.ACTIVATED, DeviceEvent.Type.COMMITTED)) {
            dev.publish(Topics.events(deviceId), CODEC.encode(DeviceEvent.of(deviceId, t, depId, ref, null, "test")),
                    false);
        }
    }

    private void window(String device, ModelRef ref, double p95, Double drift) {
        long end = System.currentTimeMillis();
        long seq = SEQ.incrementAndGet();
        TelemetryWindow w = new TelemetryWindow(1, device + "-" + seq, end, device, seq, end - 10_000, end, ref, 100, 0,
                new LatencyStats(p95 / 2, p95, p95, p95, p95 / 2), null, drift, 0, false);
        QuarkusTransaction.requiringNew().run(() -> session.persist(TelemetryView.toEntity(w, end)));
    }

    private void rule(String id, String metric, String classId, Double threshold) {
        Map<String, Object> r = new HashMap<>(Map.of("id", id, "metric", metric, "scope", "VERSION", "classId",
                classId, "lookbackSeconds", 60, "action", "RECOMPRESS"));
        if (threshold != null) {
            r.put("threshold", threshold);
        }
        json().body(r).post("/api/v1/alert-rules").then().statusCode(201);
    }

    /** Ticks the loop (as the scheduler would) until the class's newest loop is in {@code state}. */
    private JsonPath tickUntil(String classId, String state) {
        JsonPath[] l = new JsonPath[1];
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
            loops.tick(System.currentTimeMillis());
            l[0] = api().get("/api/v1/loops?classId=" + classId + "&limit=1").then().statusCode(200).extract()
                    .jsonPath();
            String s = l[0].getString("[0].state");
            assertTrue(s == null || !List.of("FAILED", "NO_CHOICE", "ROLLED_BACK").contains(s) || s.equals(state),
                    () -> l[0].prettify());
            return state.equals(s);
        });
        return api().get("/api/v1/loops/" + l[0].getString("[0].id")).then().statusCode(200).extract().jsonPath();
    }

    /**
     * Runs the canary of a loop's deployment: every device commits when it gets the variant and reports good
     * telemetry (and the given drift) on it until the deployment completes; then the loop is promoted.
     */
    private JsonPath promote(String classId, JsonPath loop, Map<String, FakeDevice> devices, Double drift)
            throws Exception {
        String dep = loop.getString("deploymentId");
        ModelRef variant = ref(loop.getString("model"), loop.getLong("resultVersion"));
        api().get("/api/v1/deployments/" + dep).then().body("policy.canary.count", equalTo(1))
                .body("policy.gates.latency", equalTo(true)).body("waves.count", equalTo(2));
        List<String> committed = new ArrayList<>();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).until(() -> {
            for (Map.Entry<String, FakeDevice> d : devices.entrySet()) {
                if (!committed.contains(d.getKey()) && gotDeploy(d.getValue(), d.getKey(), dep)) {
                    commit(d.getValue(), d.getKey(), dep, variant);
                    committed.add(d.getKey());
                }
                if (committed.contains(d.getKey())) {
                    window(d.getKey(), variant, 10.0, drift);
                }
            }
            String status = api().get("/api/v1/deployments/" + dep).jsonPath().getString("status");
            assertTrue(List.of("IN_PROGRESS", "COMPLETED").contains(status), "deployment " + status);
            return "COMPLETED".equals(status);
        });
        return tickUntil(classId, "PROMOTED");
    }

    // ---------------------------------------------------------------- tests

    @Test
    void aModelGoesToTheFleetWithEachClassItsOwnVariant() throws Exception {
        byte[] model = DemoModels.classifier(1501);
        long base = Api.upload("fr-model", model);
        upload("fr-valid", inputs(1, 0));
        upload("fr-calib", inputs(2, 0));
        createClass("fr-roomy", List.of("fp32", "int8"), 10_000_000);
        createClass("fr-tight", List.of("fp32", "int8"), model.length * 3L / 4);
        Api.createClass("fr-unplanned");
        String p1 = Api.registerDevice("fr-roomy-1", "fr-roomy");
        String p2 = Api.registerDevice("fr-tight-1", "fr-tight");
        Api.registerDevice("fr-unplanned-1", "fr-unplanned");
        String roomy = plan("fr-model", base, "fr-roomy", "fr");
        String tight = plan("fr-model", base, "fr-tight", "fr");
        assertEquals("identity", roomy);
        assertNotEquals("identity", tight);

        String path = "/api/v1/models/fr-model/versions/" + base + "/fleet-rollouts";
        JsonPath g = json().body(Map.of("classIds", List.of("fr-roomy", "fr-tight", "fr-unplanned"), "policy",
                        ALL_AT_ONCE)).post(path).then().statusCode(202).extract().jsonPath();
        assertEquals(List.of("fr-roomy", "fr-tight"), g.getList("deployments.classId"), g::prettify);
        assertEquals(List.of("identity", tight), g.getList("deployments.candidate"));
        assertEquals("fr-unplanned", g.getString("skipped[0].classId"));
        assertTrue(g.getString("skipped[0].reason").contains("no variant of 'fr-model' is registered"));
        long roomyVersion = g.getLong("deployments[0].version");
        long tightVersion = g.getLong("deployments[1].version");
        assertNotEquals(roomyVersion, tightVersion);
        try (FakeDevice d1 = online("fr-roomy-1", p1); FakeDevice d2 = online("fr-tight-1", p2)) {
            for (int i = 0; i < 2; i++) {
                String dep = g.getString("deployments[" + i + "].deploymentId");
                api().get("/api/v1/deployments/" + dep).then().statusCode(200)
                        .body("classId", equalTo(g.getString("deployments[" + i + "].classId")))
                        .body("version", equalTo(g.getInt("deployments[" + i + "].version")))
                        .body("targets.size()", equalTo(1));
            }
            await().atMost(WAIT).until(() -> gotDeploy(d1, "fr-roomy-1", g.getString("deployments[0].deploymentId")));
            await().atMost(WAIT).until(() -> gotDeploy(d2, "fr-tight-1", g.getString("deployments[1].deploymentId")));
        }
        // the baselines stay recorded and visible beside each class's variant
        api().get("/api/v1/device-classes/fr-tight/variants").then().statusCode(200)
                .body("[0].version", equalTo((int) tightVersion))
                .body("[0].baselines.role", equalTo(List.of("uncompressed", "aggressive-reference")))
                .body("[0].baselines[0].modelVersion", equalTo((int) base));

        // bad input: an unknown class, an unknown version, a bad policy, nothing deployable
        json().body(Map.of("classIds", List.of("fr-nope"))).post(path).then().statusCode(400)
                .body("error", equalTo("UNKNOWN_DEVICE_CLASS")).body("fields[0].field", equalTo("classIds"));
        json().body(Map.of()).post("/api/v1/models/fr-model/versions/99/fleet-rollouts").then().statusCode(404);
        json().body(Map.of("classIds", List.of("fr-roomy"), "policy", Map.of("canary", Map.of("count", 0))))
                .post(path).then().statusCode(400).body("fields[0].field", equalTo("policy.canary.count"));
        json().body(Map.of("classIds", List.of("fr-unplanned"))).post(path).then().statusCode(400)
                .body("error", equalTo("NO_TARGETS")).body("message", containsString("fr-unplanned: no variant"));
    }

    @Test
    void aLatencyBreachReplansMoreAggressivelyAndTheCanaryIsPromoted() throws Exception {
        long base = Api.upload("cl-lat-model", DemoModels.classifier(1502));
        upload("cl-lat-valid", inputs(3, 0));
        upload("cl-lat-calib", inputs(4, 0));
        createClass("cl-lat", List.of("fp32", "int8"), 10_000_000);
        Map<String, FakeDevice> devices = new java.util.LinkedHashMap<>();
        String p1 = Api.registerDevice("cl-lat-1", "cl-lat");
        String p2 = Api.registerDevice("cl-lat-2", "cl-lat");
        assertEquals("identity", plan("cl-lat-model", base, "cl-lat", "cl-lat"));
        json().body(Map.of("mode", "automatic")).put("/api/v1/device-classes/cl-lat/loop").then().statusCode(200)
                .body("mode", equalTo("automatic")).body("explicit", equalTo(true));
        try (FakeDevice d1 = online("cl-lat-1", p1); FakeDevice d2 = online("cl-lat-2", p2)) {
            devices.put("cl-lat-1", d1);
            devices.put("cl-lat-2", d2);
            JsonPath g = json().body(Map.of("classIds", List.of("cl-lat"), "policy", ALL_AT_ONCE))
                    .post("/api/v1/models/cl-lat-model/versions/" + base + "/fleet-rollouts").then().statusCode(202)
                    .extract().jsonPath();
            long current = g.getLong("deployments[0].version");
            ModelRef running = ref("cl-lat-model", current);
            commit(d1, "cl-lat-1", g.getString("deployments[0].deploymentId"), running);
            commit(d2, "cl-lat-2", g.getString("deployments[0].deploymentId"), running);

            // the float variant breaks the 40 ms SLO on a device: the rule fires and requests a re-compression
            rule("cl-lat-p95", "P95_LATENCY_MS", "cl-lat", null);
            window("cl-lat-1", running, 80.0, null);
            long firedAt = System.currentTimeMillis();
            alerts.evaluate(firedAt);
            api().get("/api/v1/alerts?state=FIRING&rule=cl-lat-p95").then().body("size()", equalTo(1))
                    .body("[0].actionResult", containsString("re-compression requested"));

            JsonPath canary = tickUntil("cl-lat", "CANARY");
            assertEquals("AGGRESSIVE", canary.getString("strategy"));
            assertEquals("identity", canary.getString("fromCandidate"));
            assertEquals(current, canary.getLong("fromVersion"));
            assertEquals(base, canary.getLong("baseVersion"));
            assertTrue(!canary.getList("candidates").contains("identity") && !canary.getList("candidates").isEmpty(),
                    canary::prettify);
            assertNotEquals("identity", canary.getString("choice"));
            assertTrue(canary.getList("candidates").contains(canary.getString("choice")));
            // 80 ms measured against the 40 ms SLO: the re-plan had to meet 20 ms on the class's cost model
            assertTrue(canary.getString("history[1].note").contains("2x the class's SLO of 40 ms: the re-plan's "
                    + "limit is 20 ms"), canary::prettify);
            JsonPath replan = api().get("/api/v1/plans/" + canary.getString("planId")).then().statusCode(200)
                    .extract().jsonPath();
            assertEquals(List.of(20.0f), replan.getList("plan.candidates.findAll { it.id == '"
                    + canary.getString("choice") + "' }[0].slos.findAll { it.slo == 'p95LatencyMs' }.limit"),
                    replan::prettify);
            assertEquals("P95_LATENCY_MS", canary.getString("metric"));
            assertEquals("cl-lat-p95", canary.getString("ruleId"));
            // gated, not yet the class's variant: only a promoted canary changes the registry
            api().get("/api/v1/device-classes/cl-lat/variants").then().body("[0].version", equalTo((int) current));
            api().get("/api/v1/plans/" + canary.getString("planId")).then().body("status", equalTo("CHOSEN"))
                    .body("resultVersion", equalTo(canary.getInt("resultVersion")));

            JsonPath done = promote("cl-lat", canary, devices, null);
            long version = done.getLong("resultVersion");
            api().get("/api/v1/device-classes/cl-lat/variants").then().body("[0].version", equalTo((int) version))
                    .body("[0].planId", equalTo(done.getString("planId")))
                    .body("[0].baselines.role", equalTo(List.of("uncompressed", "aggressive-reference")));
            assertTrue(done.getString("outcome").startsWith("promoted"), done::prettify);
            assertEquals(List.of("READY", "PLANNING", "GATED", "CANARY", "CANARY", "PROMOTED"),
                    done.getList("history.state"), done::prettify);
            assertNotNull(done.get("alertId"));
            assertNotNull(done.get("requestId"));
            long toCanary = done.getLong("alertToCanaryMs");
            assertTrue(toCanary > 0 && done.getLong("canaryCommittedAt") >= done.getLong("deploymentCreatedAt"));
            System.out.printf("LOOP-TIMING latency loop: alert fired -> canary committed %d ms (plan %d ms, "
                            + "deployment created -> canary committed %d ms)%n", toCanary,
                    done.getLong("planFinishedAt") - done.getLong("planSubmittedAt"),
                    done.getLong("canaryCommittedAt") - done.getLong("deploymentCreatedAt"));

            // the same breach again inside the cooldown: recorded, nothing started
            alerts.evaluate(firedAt + 120_000);  // the window left the lookback: resolved
            window("cl-lat-1", ref("cl-lat-model", version), 90.0, null);
            alerts.evaluate(System.currentTimeMillis());
            JsonPath skipped = tickUntil("cl-lat", "SKIPPED");
            assertTrue(skipped.getString("reason").startsWith("cooldown"), skipped::prettify);
        }
        api().delete("/api/v1/alert-rules/cl-lat-p95").then().statusCode(204);
    }

    @Test
    void aBreachNoCandidateCanMeetStopsTheLoopWithoutADeployAndTheAlertSaysSo() throws Exception {
        long base = Api.upload("cl-far-model", DemoModels.classifier(1505));
        upload("cl-far-valid", inputs(13, 0));
        upload("cl-far-calib", inputs(14, 0));
        createClass("cl-far", List.of("fp32", "int8"), 10_000_000);
        String p1 = Api.registerDevice("cl-far-1", "cl-far");
        assertEquals("identity", plan("cl-far-model", base, "cl-far", "cl-far"));
        json().body(Map.of("mode", "automatic")).put("/api/v1/device-classes/cl-far/loop").then().statusCode(200);
        try (FakeDevice d1 = online("cl-far-1", p1)) {
            JsonPath g = json().body(Map.of("classIds", List.of("cl-far"), "policy", ALL_AT_ONCE))
                    .post("/api/v1/models/cl-far-model/versions/" + base + "/fleet-rollouts").then().statusCode(202)
                    .extract().jsonPath();
            ModelRef running = ref("cl-far-model", g.getLong("deployments[0].version"));
            commit(d1, "cl-far-1", g.getString("deployments[0].deploymentId"), running);
            int deployments = api().get("/api/v1/deployments").then().extract().jsonPath().getList("$").size();

            // a million times over the 40 ms SLO: the target is 40 ns, which no candidate's estimate meets
            rule("cl-far-p95", "P95_LATENCY_MS", "cl-far", null);
            window("cl-far-1", running, 40_000_000.0, null);
            alerts.evaluate(System.currentTimeMillis());
            JsonPath stopped = tickUntil("cl-far", "NO_CHOICE");
            assertEquals("AGGRESSIVE", stopped.getString("strategy"));
            assertTrue(stopped.getString("history[1].note").contains("1000000x the class's SLO of 40 ms"),
                    stopped::prettify);
            assertTrue(stopped.getString("history[2].note").contains("tightened target"), stopped::prettify);
            assertNull(stopped.get("deploymentId"));
            assertNull(stopped.get("resultVersion"));
            api().get("/api/v1/plans/" + stopped.getString("planId")).then().body("status", equalTo("NO_CHOICE"));
            assertEquals(deployments, api().get("/api/v1/deployments").then().extract().jsonPath().getList("$")
                    .size(), "nothing was deployed");
            api().get("/api/v1/alerts?rule=cl-far-p95").then().body("[0].actionResult",
                    containsString("loop " + stopped.getString("id") + " stopped, nothing deployed: no candidate"));
            // the class keeps its variant
            api().get("/api/v1/device-classes/cl-far/variants").then().body("[0].version",
                    equalTo(g.getInt("deployments[0].version")));
        }
        api().delete("/api/v1/alert-rules/cl-far-p95").then().statusCode(204);
    }

    @Test
    void driftRecalibratesOnCapturedDataAndTheCanaryIsPromoted() throws Exception {
        long base = Api.upload("cl-dm", DemoModels.classifier(1503));
        upload("cl-drift-valid", inputs(5, 0));
        upload("cl-drift-calib", inputs(6, 0));
        // int8-only: the variant is a calibrated int8 one, which fresh data can recalibrate
        createClass("cl-drift", List.of("int8"), 10_000_000);
        String p1 = Api.registerDevice("cl-drift-1", "cl-drift");
        String p2 = Api.registerDevice("cl-drift-2", "cl-drift");
        String chosen = plan("cl-dm", base, "cl-drift", "cl-drift");
        json().body(Map.of("mode", "automatic")).put("/api/v1/device-classes/cl-drift/loop").then().statusCode(200);
        // what the devices captured under their opt-in, stored as seams.md names it: capture/<class>/<model>/<time>
        capture("capture/cl-drift/cl-dm/20261206100000", inputs(8, 0.5));
        capture("capture/cl-drift/cl-dm/20261206110000", inputs(7, 1.5));
        Map<String, FakeDevice> devices = new java.util.LinkedHashMap<>();
        try (FakeDevice d1 = online("cl-drift-1", p1); FakeDevice d2 = online("cl-drift-2", p2)) {
            devices.put("cl-drift-1", d1);
            devices.put("cl-drift-2", d2);
            JsonPath g = json().body(Map.of("classIds", List.of("cl-drift"), "policy", ALL_AT_ONCE))
                    .post("/api/v1/models/cl-dm/versions/" + base + "/fleet-rollouts").then().statusCode(202)
                    .extract().jsonPath();
            ModelRef running = ref("cl-dm", g.getLong("deployments[0].version"));
            // the planned variant's devices compare against its validation data, not a self reference
            api().get("/api/v1/models/cl-dm/versions/" + running.version() + "/reference-profile").then()
                    .statusCode(200).body("source", equalTo("validation")).body("dataset", equalTo("cl-drift-valid"));
            commit(d1, "cl-drift-1", g.getString("deployments[0].deploymentId"), running);
            commit(d2, "cl-drift-2", g.getString("deployments[0].deploymentId"), running);

            rule("cl-drift-psi", "DRIFT_SCORE", "cl-drift", 0.2);
            window("cl-drift-2", running, 10.0, 0.6);
            alerts.evaluate(System.currentTimeMillis());
            JsonPath canary = tickUntil("cl-drift", "CANARY");
            assertEquals("RECALIBRATE", canary.getString("strategy"));
            assertEquals(chosen, canary.getString("fromCandidate"));
            assertEquals("capture/cl-drift/cl-dm/20261206110000", canary.getString("calibrationDataset"));
            List<String> space = canary.getList("candidates");
            assertEquals(chosen, space.get(space.size() - 1), "the current recipe and gentler ones");
            api().get("/api/v1/plans/" + canary.getString("planId")).then()
                    .body("calibrationDataset", equalTo("capture/cl-drift/cl-dm/20261206110000"));
            // the recalibrated variant's reference is the captured stream it was recalibrated for: the drifted inputs
            // are its normal, so the alert that caused the loop does not fire again on the variant it deploys
            api().get("/api/v1/models/cl-dm/versions/" + canary.getLong("resultVersion") + "/reference-profile").then()
                    .statusCode(200).body("source", equalTo("calibration"))
                    .body("dataset", equalTo("capture/cl-drift/cl-dm/20261206110000"));

            JsonPath done = promote("cl-drift", canary, devices, 0.6);
            assertEquals("PROMOTED", done.getString("state"));
            System.out.printf("LOOP-TIMING drift loop: alert fired -> canary committed %d ms%n",
                    done.getLong("alertToCanaryMs"));
            api().get("/api/v1/device-classes/cl-drift/variants").then()
                    .body("[0].version", equalTo(done.getInt("resultVersion")))
                    .body("[0].lineage.calibrationSha256", equalTo(datasets.find(
                            "capture/cl-drift/cl-dm/20261206110000").sha256));
        }
        api().delete("/api/v1/alert-rules/cl-drift-psi").then().statusCode(204);
    }

    @Test
    void approveModeWaitsForTheOperatorAndBadInputIsRefused() {
        long base = Api.upload("cl-ap-model", DemoModels.classifier(1504));
        upload("cl-ap-valid", inputs(9, 0));
        upload("cl-ap-calib", inputs(10, 0));
        createClass("cl-ap", List.of("fp32", "int8"), 10_000_000);
        Api.registerDevice("cl-ap-1", "cl-ap");
        plan("cl-ap-model", base, "cl-ap", "cl-ap");
        // the default switch is approve until an operator sets one
        api().get("/api/v1/device-classes/cl-ap/loop").then().statusCode(200).body("mode", equalTo("approve"))
                .body("explicit", equalTo(false));
        long variant = api().get("/api/v1/device-classes/cl-ap/variants").jsonPath().getLong("[0].version");
        ModelRef running = ref("cl-ap-model", variant);

        rule("cl-ap-p95", "P95_LATENCY_MS", "cl-ap", null);
        window("cl-ap-1", running, 70.0, null);
        long t0 = System.currentTimeMillis();
        alerts.evaluate(t0);
        JsonPath waiting = tickUntil("cl-ap", "AWAITING_APPROVAL");
        String first = waiting.getString("id");
        assertTrue(waiting.getString("reason").endsWith("awaiting approval"));
        assertNull(waiting.get("planId"));
        json().body(Map.of("reason", "not during the freeze")).post("/api/v1/loops/" + first + "/reject").then()
                .statusCode(200).body("state", equalTo("REJECTED")).body("outcome", containsString("freeze"))
                .body("decidedBy", equalTo("admin via api"));
        json().body(Map.of()).post("/api/v1/loops/" + first + "/approve").then().statusCode(409)
                .body("error", equalTo("CONFLICT")).body("message", containsString("not awaiting approval"));

        alerts.evaluate(t0 + 120_000);  // resolved
        window("cl-ap-1", running, 75.0, null);
        alerts.evaluate(System.currentTimeMillis());
        String second = tickUntil("cl-ap", "AWAITING_APPROVAL").getString("id");
        assertNotEquals(first, second);
        // approved from the console by the operator: the loop says who, and that it was the console
        ConsoleSession.signIn("operator-token").json().body(Map.of()).post("/api/v1/loops/" + second + "/approve").then()
                .statusCode(200).body("state", equalTo("READY")).body("approvedAt", org.hamcrest.Matchers.notNullValue())
                .body("decidedBy", equalTo("ops via console"));
        json().body(Map.of()).post("/api/v1/loops/" + second + "/approve").then().statusCode(409);
        JsonPath planned = tickUntil("cl-ap", "CANARY");
        assertEquals(second, planned.getString("id"));
        assertEquals(List.of("AWAITING_APPROVAL", "READY", "PLANNING", "GATED", "CANARY"),
                planned.getList("history.state"));
        json().body(Map.of("reason", "test")).post("/api/v1/deployments/" + planned.getString("deploymentId")
                + "/abort").then().statusCode(200);
        JsonPath halted = tickUntil("cl-ap", "ROLLED_BACK");
        assertTrue(halted.getString("outcome").startsWith("rolled back"), halted::prettify);
        api().get("/api/v1/device-classes/cl-ap/variants").then().body("[0].version", equalTo((int) variant));

        json().body(Map.of("mode", "sometimes")).put("/api/v1/device-classes/cl-ap/loop").then().statusCode(400)
                .body("error", equalTo("VALIDATION_FAILED")).body("fields[0].field", equalTo("mode"));
        json().body(Map.of()).put("/api/v1/device-classes/cl-ap/loop").then().statusCode(400)
                .body("fields[0].field", equalTo("mode"));
        json().body(Map.of("mode", "off")).put("/api/v1/device-classes/cl-nope/loop").then().statusCode(400)
                .body("error", equalTo("UNKNOWN_DEVICE_CLASS"));
        json().body(Map.of("mode", "off", "freshDataset", "nope")).put("/api/v1/device-classes/cl-ap/loop").then()
                .statusCode(400).body("error", equalTo("UNKNOWN_DATASET")).body("fields[0].field",
                        equalTo("freshDataset"));
        api().get("/api/v1/device-classes/cl-nope/loop").then().statusCode(404);
        api().get("/api/v1/loops/nope").then().statusCode(404);
        json().body(Map.of()).post("/api/v1/loops/nope/approve").then().statusCode(404);
        api().get("/api/v1/loops?state=LOUD").then().statusCode(400).body("fields[0].field", equalTo("state"));
        api().delete("/api/v1/alert-rules/cl-ap-p95").then().statusCode(204);
    }

    @Test
    void repeatedRollbacksBackTheClassOffUntilAnOperatorReEnablesIt() {
        long base = Api.upload("cl-bo-model", DemoModels.classifier(1505));
        upload("cl-bo-valid", inputs(11, 0));
        upload("cl-bo-calib", inputs(12, 0));
        createClass("cl-bo", List.of("fp32", "int8"), 10_000_000);
        plan("cl-bo-model", base, "cl-bo", "cl-bo");
        json().body(Map.of("mode", "automatic")).put("/api/v1/device-classes/cl-bo/loop").then().statusCode(200);
        json().body(Map.of("id", "cl-bo-rollbacks", "metric", "ROLLBACK_RATE", "scope", "MODEL", "classId", "cl-bo",
                "action", "RECOMPRESS")).post("/api/v1/alert-rules").then().statusCode(201);
        rule("cl-bo-p95", "P95_LATENCY_MS", "cl-bo", null);
        // what the rules' RECOMPRESS actions record (a rollback-rate alert needs real rollbacks to fire)
        request("cl-bo-rollbacks", "cl-bo", "cl-bo-model");
        JsonPath off = tickUntil("cl-bo", "BACKED_OFF");
        assertTrue(off.getString("reason").contains("rollback rate"), off::prettify);
        api().get("/api/v1/device-classes/cl-bo/loop").then().body("backedOffAt", org.hamcrest.Matchers.notNullValue())
                .body("mode", equalTo("automatic"));
        request("cl-bo-p95", "cl-bo", "cl-bo-model");
        JsonPath skipped = tickUntil("cl-bo", "SKIPPED");
        assertTrue(skipped.getString("reason").contains("backed off"), skipped::prettify);
        api().get("/api/v1/recompression-requests").then()
                .body("findAll { it.classId == 'cl-bo' }.status", equalTo(List.of("TAKEN", "TAKEN")));

        json().body(Map.of("mode", "approve")).put("/api/v1/device-classes/cl-bo/loop").then().statusCode(200)
                .body("backedOffAt", equalTo(null));
        request("cl-bo-p95", "cl-bo", "cl-bo-model");
        tickUntil("cl-bo", "AWAITING_APPROVAL");
        assertEquals(3, api().get("/api/v1/loops?classId=cl-bo").jsonPath().getList("$").size());
        api().delete("/api/v1/alert-rules/cl-bo-p95").then().statusCode(204);
        api().delete("/api/v1/alert-rules/cl-bo-rollbacks").then().statusCode(204);
    }

    /**
     * Crash points: the loop's state is its row, so a server killed in any open state resumes at the next pass. Rows
     * are written as a killed server leaves them; one pass moves each on (a plan the restart failed ends the loop).
     */
    @Test
    void aPassAfterARestartResumesALoopKilledInEveryOpenState() {
        long base = Api.upload("cl-rs-model", DemoModels.classifier(1506));
        upload("cl-rs-valid", inputs(13, 0));
        upload("cl-rs-calib", inputs(14, 0));
        createClass("cl-rs", List.of("fp32", "int8"), 10_000_000);
        Api.registerDevice("cl-rs-1", "cl-rs");
        plan("cl-rs-model", base, "cl-rs", "cl-rs");
        JsonPath v = api().get("/api/v1/device-classes/cl-rs/variants").jsonPath();
        String planId = v.getString("[0].planId");
        long variant = v.getLong("[0].version");
        QuarkusTransaction.requiringNew().run(() -> {
            // the plan a restart marked FAILED while the loop waited for it
            io.edgefleet.server.planner.PlanJobEntity killed = new io.edgefleet.server.planner.PlanJobEntity();
            killed.id = "cl-rs-killed-plan";
            killed.modelName = "cl-rs-model";
            killed.baseVersion = base;
            killed.deviceClassId = "cl-rs";
            killed.validationDataset = "cl-rs-valid";
            killed.validationSha256 = "0".repeat(64);
            killed.request = "{}";
            killed.status = io.edgefleet.server.planner.PlanStatus.FAILED;
            killed.error = "server restarted while the plan was queued or running";
            killed.createdAt = 1;
            session.persist(killed);
        });
        String ready = killedIn(LoopState.READY, planId, base, variant, null, null);
        String planning = killedIn(LoopState.PLANNING, planId, base, variant, "cl-rs-killed-plan", null);
        String gated = killedIn(LoopState.GATED, planId, base, variant, null, variant);

        loops.tick(System.currentTimeMillis());
        JsonPath r = api().get("/api/v1/loops/" + ready).jsonPath();
        assertTrue(List.of("PLANNING", "GATED", "CANARY").contains(r.getString("state")), r::prettify);
        assertNotNull(r.getString("planId"));
        JsonPath p = api().get("/api/v1/loops/" + planning).jsonPath();
        assertEquals("FAILED", p.getString("state"), p::prettify);
        assertTrue(p.getString("history[-1].note").contains("server restarted"), p::prettify);
        JsonPath g = api().get("/api/v1/loops/" + gated).jsonPath();
        assertEquals("CANARY", g.getString("state"), g::prettify);
        String dep = g.getString("deploymentId");
        api().get("/api/v1/deployments/" + dep).then().body("version", equalTo((int) variant))
                .body("policy.canary.count", equalTo(1));
        // killed while the canary ran: the next pass reads the deployment again; an abort ends it rolled back
        json().body(Map.of("reason", "restart test")).post("/api/v1/deployments/" + dep + "/abort").then()
                .statusCode(200);
        loops.tick(System.currentTimeMillis());
        api().get("/api/v1/loops/" + gated).then().body("state", equalTo("ROLLED_BACK"))
                .body("outcome", containsString("restart test"));
        // the READY loop's plan goes on, and its loop with it
        api().post("/api/v1/plans/" + r.getString("planId") + "/cancel");
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
            loops.tick(System.currentTimeMillis());
            return api().get("/api/v1/loops/" + ready).jsonPath().getString("state").equals("FAILED")
                    || api().get("/api/v1/loops/" + ready).jsonPath().getString("state").equals("CANARY");
        });
    }

    private String killedIn(LoopState state, String fromPlan, long base, long variant, String planJob, Long result) {
        String id = "cl-rs-" + state.name().toLowerCase(java.util.Locale.ROOT);
        QuarkusTransaction.requiringNew().run(() -> {
            LoopRunEntity l = new LoopRunEntity();
            l.id = id;
            l.classId = "cl-rs";
            l.modelName = "cl-rs-model";
            l.baseVersion = base;
            l.fromVersion = variant;
            l.fromCandidate = "identity";
            l.fromPlanId = fromPlan;
            l.mode = LoopMode.AUTOMATIC;
            l.strategy = LoopStrategy.AGGRESSIVE;
            l.state = state;
            l.reason = "written as a killed server leaves it";
            l.calibrationDataset = "cl-rs-calib";
            l.planJobId = planJob;
            l.resultVersion = result;
            l.choice = result == null ? null : "identity";
            l.history = "[]";
            l.createdAt = System.currentTimeMillis();
            l.updatedAt = l.createdAt;
            session.persist(l);
        });
        return id;
    }

    /**
     * A captured dataset as the capture upload stores it. Names with '/' do not pass the upload API's name rule, so
     * the bytes go in under a plain name and the row is copied under the capture name (same blob, same hash).
     */
    private void capture(String name, byte[] npz) {
        String plain = "cap-" + SEQ.incrementAndGet();
        upload(plain, npz);
        QuarkusTransaction.requiringNew().run(() -> {
            DatasetEntity src = session.find(DatasetEntity.class, plain);
            DatasetEntity d = new DatasetEntity();
            d.name = name;
            d.sha256 = src.sha256;
            d.size = src.size;
            d.arrays = src.arrays;
            d.sampleCount = src.sampleCount;
            d.hasLabels = src.hasLabels;
            d.hasCohort = src.hasCohort;
            d.createdAt = System.currentTimeMillis();
            session.persist(d);
        });
    }

    private void request(String rule, String classId, String model) {
        QuarkusTransaction.requiringNew().run(() -> {
            RecompressionRequestEntity r = new RecompressionRequestEntity();
            r.alertId = -1;
            r.ruleId = rule;
            r.classId = classId;
            r.modelName = model;
            r.reason = "test: " + rule;
            r.status = RecompressionRequestEntity.OPEN;
            r.createdAt = System.currentTimeMillis();
            session.persist(r);
        });
    }
}
