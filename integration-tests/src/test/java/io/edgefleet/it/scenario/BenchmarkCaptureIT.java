package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.TestModels;
import io.edgefleet.protocol.data.NpyArray;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Devices measure for the planner, and opt-in capture, end to end: the packaged server, a real broker and two real
 * agents. A BENCHMARK of an uploaded model runs on both (signed, not activated), the class's cost model is fitted from
 * their reports against the server's own measurement, and a plan for the class names the fitted model. Then the
 * model is deployed, one device is opted in to capture and its sampled inputs arrive as a capture/... dataset within
 * the bound, while the other device, never opted in, sends nothing.
 */
class BenchmarkCaptureIT {
    static final String CLASS = "it-bench";
    static final Duration TIMEOUT = Duration.ofSeconds(90);
    static final String ALL_AT_ONCE = "{\"canary\":{\"percent\":100},\"batches\":{\"percent\":100},\"soakSeconds\":0,"
            + "\"successCondition\":{\"minCommittedPercent\":0},\"gates\":{\"latency\":false,\"energy\":false}}";

    static Fleet fleet;
    static Api api;

    @BeforeAll
    static void startFleet() {
        fleet = Fleet.start("bench");
        api = fleet.api();
    }

    @AfterAll
    static void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
    }

    private static byte[] validation(int n) {
        float[] x = new float[n * 16];
        Random r = new Random(5);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return TestModels.npz(Map.of("x", NpyArray.ofFloats(x, n, 16)));
    }

    @Test
    void devicesBenchmarkTheClassModelIsFittedThePlanUsesItAndOnlyTheOptedInDeviceCaptures() throws Exception {
        api.createDeviceClass(CLASS, 500.0);
        List<Fleet.Device> devices = fleet.register(CLASS, "it-bench-1", "it-bench-2");
        for (Fleet.Device d : devices) {
            fleet.startAgent(d, b -> b.telemetryWindowSeconds(1).inferenceIntervalMs(20));
        }
        for (Fleet.Device d : devices) {
            Await.until(TIMEOUT, d.id() + " online", () -> api.device(d.id()).path("online").asBoolean(), () -> "");
        }
        long version = api.uploadModel("it-bench-model", TestModels.mlp(41).bytes()).path("version").asLong();

        ObjectNode req = Api.JSON.createObjectNode().put("model", "it-bench-model").put("version", version)
                .put("devices", 2).put("seconds", 2);
        String job = api.post("/api/v1/device-classes/" + CLASS + "/benchmarks", req).expect(202).path("id").asText();
        JsonNode[] done = new JsonNode[1];
        Await.until(TIMEOUT, "the benchmark job ends", () -> {
            done[0] = api.get("/api/v1/device-classes/" + CLASS + "/benchmarks/" + job).expect(200);
            return !"RUNNING".equals(done[0].path("status").asText());
        }, () -> String.valueOf(done[0]));
        assertEquals("COMPLETED", done[0].path("status").asText(), done[0].toString());
        for (JsonNode r : done[0].path("results")) {
            assertTrue(r.path("inferences").asLong() > 0 && r.path("p95Ms").asDouble() > 0, r.toString());
            assertTrue(r.hasNonNull("energySource"), r.toString());
        }
        // the benchmark activated nothing
        for (Fleet.Device d : devices) {
            JsonNode active = api.device(d.id()).path("active");
            assertTrue(active.isNull() || active.isMissingNode(), api.device(d.id()).toString());
        }
        JsonNode cm = api.get("/api/v1/device-classes/" + CLASS + "/cost-model").expect(200);
        assertEquals("fitted", cm.path("source").asText(), cm.toString());
        assertEquals(2, cm.path("reports").asInt());
        System.out.println("[BenchmarkCaptureIT] server p95 " + done[0].path("serverP95Ms").asDouble() + " ms; device p95s "
                + done[0].path("results").findValues("p95Ms") + "; cost model: " + cm.path("summary").asText()
                + " (p95 scale " + cm.path("p95Scale").asDouble() + ", energy error " + cm.path("energyErrorPercent")
                + " %)");

        api.postRaw("/api/v1/datasets/it-bench-valid", "application/octet-stream", validation(32)).expect(201);
        ObjectNode plan = Api.JSON.createObjectNode().put("deviceClassId", CLASS).put("validationDataset", "it-bench-valid");
        plan.putObject("budget").put("maxCandidates", 1).put("latencyRuns", 5);
        String planId = api.post("/api/v1/models/it-bench-model/versions/" + version + "/plans", plan).expect(202)
                .path("id").asText();
        JsonNode[] p = new JsonNode[1];
        Await.until(TIMEOUT, "the plan ends", () -> {
            p[0] = api.get("/api/v1/plans/" + planId).expect(200);
            return List.of("CHOSEN", "NO_CHOICE", "FAILED").contains(p[0].path("status").asText());
        }, () -> String.valueOf(p[0]));
        assertEquals("fitted:" + CLASS, p[0].path("plan").path("sources").path("costModel").asText(), p[0].toString());
        assertTrue(p[0].path("plan").path("sources").path("latency").asText().contains("fitted from 2 device reports"),
                p[0].toString());

        // deploy, opt one device in, and its real inputs arrive as a dataset within the bound
        ObjectNode dep = Api.JSON.createObjectNode().put("model", "it-bench-model").put("version", version)
                .put("classId", CLASS);
        dep.set("policy", Api.JSON.readTree(ALL_AT_ONCE));
        api.post("/api/v1/deployments", dep).expect(202);
        Await.until(TIMEOUT, "both devices run the model", () -> devices.stream()
                .allMatch(d -> api.device(d.id()).path("active").path("version").asLong() == version), () -> "");
        ObjectNode capture = Api.JSON.createObjectNode().put("enabled", true).put("rate", 0.5).put("maxSamples", 40)
                .put("maxBytes", 1 << 20);
        api.put("/api/v1/devices/it-bench-1/capture", capture).expect(200);
        Await.until(TIMEOUT, "captured samples arrive", () -> api.get("/api/v1/devices/it-bench-1/capture").expect(200)
                .path("samplesReceived").asLong() >= 40, () -> api.get("/api/v1/devices/it-bench-1/capture").body());
        Thread.sleep(3000); // more windows pass: the bound must hold
        JsonNode c1 = api.get("/api/v1/devices/it-bench-1/capture").expect(200);
        assertEquals(40, c1.path("samplesReceived").asLong(), c1.toString());
        String name = c1.path("datasets").get(0).asText();
        assertTrue(name.startsWith("capture/" + CLASS + "/it-bench-model/"), name);
        JsonNode ds = api.get("/api/v1/datasets/" + name).expect(200);
        assertTrue(ds.path("sampleCount").asLong() > 0, ds.toString());
        assertEquals(0, api.get("/api/v1/devices/it-bench-2/capture").expect(200).path("samplesReceived").asLong());
    }
}
