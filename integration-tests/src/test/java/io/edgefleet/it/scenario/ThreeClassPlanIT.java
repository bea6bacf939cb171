package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.it.TestModels;
import io.edgefleet.protocol.data.NpyArray;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Issue 15's first done-when, end to end: the packaged server, a real broker and database, real agents. Three device
 * classes (an int8-only board with a byte budget a quarter of the float model, a float gateway with a p95 SLO the
 * float model misses, a fast box with loose SLOs) are planned for one uploaded model with calibration and validation
 * data; each plan must choose a different variant that meets every SLO; a fleet rollout deploys each class its own
 * variant; and the telemetry the server stored from the class's devices shows them running that variant within the
 * class's p95, byte and energy SLOs.
 *
 * <p>The boards and gateways emulate slower hardware with the agent's {@code speedFactor} (it sleeps (f - 1) x each
 * inference's duration), and their classes declare the same {@code latencyScale}, so the planner's declared-profile
 * estimate (server p95 x scale) and the devices' own measurements describe the same hardware.
 */
// Opt-in (-Dit.three-class=true) until it passes on both a quiet and a loaded machine: the gateway's p95 SLO is derived
// from the float model's median measured in the test JVM, while the planner judges the server's p95 at that moment;
// on a quiet machine the float model met it (two classes chose identity), under load no candidate did, and the boards'
// first window after activation breached their SLO at load 60-110. Next step: derive the gateway SLO from the fast
// box's plan (a server-side p95 measured in the same run). docs/planner.md, "Measured".
@EnabledIfSystemProperty(named = "it.three-class", matches = "true")
class ThreeClassPlanIT {
    static final Duration TIMEOUT = Duration.ofSeconds(120);
    static final Duration PLAN_TIMEOUT = Duration.ofSeconds(300);
    static final String MODEL = "it3-mlp";
    static final String BOARD = "it3-board";
    static final String GATEWAY = "it3-gateway";
    static final String FAST = "it3-fastbox";
    static final double BOARD_SCALE = 4;
    static final double GATEWAY_SCALE = 8;
    static final int WINDOWS = 3;

    static Fleet fleet;
    static Api api;

    @BeforeAll
    static void startFleet() {
        fleet = Fleet.start("threeclass");
        api = fleet.api();
    }

    @AfterAll
    static void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void threeClassesArePlannedThreeDifferentVariantsRolledOutAndTheDevicesRunThemWithinTheirSlos() {
        TestModels.Model model = TestModels.redundantMlp(15);
        long floatBytes = model.bytes().length;
        // The gateway's p95 SLO: the float model's batch-1 median on this machine x the gateway's scale, i.e. the
        // gateway needs a variant whose p95 is below the float model's median. The float model's own p95 is above its
        // median, so it misses on any machine; its structured pruning keeps a quarter to a half of the multiply-adds.
        // (A tighter SLO, 0.6 x the median, left no candidate: on a 2-core machine at load 45 the p95 of 40 runs of
        // the pruned variants was 1.5 x their median.)
        double gatewayP95 = model.medianLatencyMs() * GATEWAY_SCALE;
        long boardBytes = floatBytes / 4;
        Log.info(model.description() + ": " + floatBytes + " bytes, batch-1 median " + model.medianLatencyMs()
                + " ms; gateway p95 SLO " + gatewayP95 + " ms, board byte budget " + boardBytes);

        Map<String, ObjectNode> classes = new LinkedHashMap<>();
        classes.put(BOARD, deviceClass(BOARD, List.of("int8"), 256, BOARD_SCALE, 0.4, 1.2, 200.0, boardBytes, 50.0));
        classes.put(GATEWAY, deviceClass(GATEWAY, List.of("fp32"), 1024, GATEWAY_SCALE, 2.0, 6.0, gatewayP95,
                64L << 20, null));
        ObjectNode fast = deviceClass(FAST, List.of("fp32", "fp16", "int8"), 8192, 1.0, 10.0, 30.0, 200.0, 64L << 20,
                200.0);
        fast.put("fp16Arithmetic", true);
        classes.put(FAST, fast);
        Map<String, Double> speed = Map.of(BOARD, BOARD_SCALE, GATEWAY, GATEWAY_SCALE, FAST, 1.0);
        Map<String, List<String>> devices = new LinkedHashMap<>();
        for (ObjectNode c : classes.values()) {
            String id = c.path("id").asText();
            api.post("/api/v1/device-classes", c).expect(201);
            List<String> ids = List.of(id + "-1", id + "-2");
            devices.put(id, ids);
            for (Fleet.Device d : fleet.register(id, ids.toArray(String[]::new))) {
                fleet.startAgent(d, b -> b.telemetryWindowSeconds(2).inferenceIntervalMs(20).speedFactor(speed.get(id)));
            }
        }
        long version = api.uploadModel(MODEL, model.bytes()).path("version").asLong();
        api.postRaw("/api/v1/datasets/it3-calib", "application/octet-stream", calibration(128)).expect(201);
        api.postRaw("/api/v1/datasets/it3-valid", "application/octet-stream", validation(model.bytes(), 300))
                .expect(201);

        // plan per class (one plan worker: they queue)
        Map<String, String> planIds = new LinkedHashMap<>();
        for (String c : classes.keySet()) {
            ObjectNode req = Api.JSON.createObjectNode().put("deviceClassId", c).put("validationDataset", "it3-valid")
                    .put("calibrationDataset", "it3-calib");
            req.putObject("budget").put("maxCandidates", 12).put("latencyRuns", 40);
            // one pruning ratio for every channel group: the sensitivity curves of two 1024-wide layers take minutes
            // on a shared machine, and this model's dead units are found by the importance criterion alone
            req.putObject("params").put("allocation", "uniform").put("calibrationSamples", "64");
            planIds.put(c, api.post("/api/v1/models/" + MODEL + "/versions/" + version + "/plans", req).expect(202)
                    .path("id").asText());
        }
        Map<String, JsonNode> plans = new LinkedHashMap<>();
        for (var e : planIds.entrySet()) {
            JsonNode[] p = new JsonNode[1];
            Await.until(PLAN_TIMEOUT, "plan for " + e.getKey() + " ends", () -> {
                p[0] = api.get("/api/v1/plans/" + e.getValue()).expect(200);
                return Set.of("CHOSEN", "NO_CHOICE", "FAILED", "CANCELLED").contains(p[0].path("status").asText());
            }, () -> String.valueOf(p[0] == null ? null : p[0].path("message")));
            assertEquals("CHOSEN", p[0].path("status").asText(), e.getKey() + ": " + verdicts(p[0].path("plan")));
            plans.put(e.getKey(), p[0]);
            Log.info("plan " + e.getKey() + ": " + p[0].path("choice").asText() + " (" + p[0].path("plan")
                    .path("stoppedBecause").asText() + "; " + p[0].path("plan").path("seconds") + " s)");
        }

        // each plan chose a different variant, and it meets every SLO of its class
        Set<String> choices = new HashSet<>();
        Map<String, JsonNode> chosen = new LinkedHashMap<>();
        for (var e : plans.entrySet()) {
            JsonNode plan = e.getValue().path("plan");
            String choice = plan.path("choice").asText();
            choices.add(choice);
            JsonNode c = candidate(plan, choice);
            chosen.put(e.getKey(), c);
            assertTrue(c.path("meetsAll").asBoolean(), e.getKey() + ": " + verdicts(plan));
            for (JsonNode s : c.path("slos")) {
                assertEquals("MET", s.path("verdict").asText(), e.getKey() + ": " + s);
            }
            assertTrue(slo(c, "p95LatencyMs").path("value").asDouble() > 0, c.toString());
            assertNotNull(e.getValue().path("resultVersion").numberValue(), e.getValue().toString());
        }
        assertEquals(3, choices.size(), "three classes, three variants: " + choices + plans.values().stream()
                .map(p -> verdicts(p.path("plan"))).toList());
        assertEquals("identity", plans.get(FAST).path("choice").asText());
        // the board computes in int8 only, and plain static int8 does not fit its byte budget
        assertEquals(List.of("int8"), strings(chosen.get(BOARD).path("requires")));
        assertTrue(chosen.get(BOARD).path("bytes").asLong() <= boardBytes, chosen.get(BOARD).toString());
        for (JsonNode c : plans.get(BOARD).path("plan").path("candidates")) {
            assertEquals(List.of("int8"), strings(c.path("requires")), c.toString());
        }
        // the gateway: float compute only; the float model itself misses exactly the p95 SLO
        JsonNode gatewayFloat = candidate(plans.get(GATEWAY).path("plan"), "identity");
        assertEquals("MISSED", slo(gatewayFloat, "p95LatencyMs").path("verdict").asText(), gatewayFloat.toString());
        assertFalse(strings(chosen.get(GATEWAY).path("requires")).contains("int8"));
        assertTrue(chosen.get(GATEWAY).path("recipe").asText().startsWith("prune-structured"),
                chosen.get(GATEWAY).toString());

        // the registry holds each class's variant, and the fleet rollout gives each class its own
        Map<String, Long> variantVersion = new LinkedHashMap<>();
        for (String c : classes.keySet()) {
            long v = plans.get(c).path("resultVersion").asLong();
            variantVersion.put(c, v);
            JsonNode variants = api.get("/api/v1/device-classes/" + c + "/variants").expect(200);
            assertTrue(variants.toString().contains("\"version\":" + v), c + ": " + variants);
        }
        ObjectNode rollout = Api.JSON.createObjectNode();
        ArrayNode ids = rollout.putArray("classIds");
        classes.keySet().forEach(ids::add);
        rollout.set("policy", Api.allAtOnce());
        JsonNode fleetRollout = api.post("/api/v1/models/" + MODEL + "/versions/" + version + "/fleet-rollouts",
                rollout).expect(202);
        assertEquals(3, fleetRollout.path("deployments").size(), fleetRollout.toString());
        for (JsonNode d : fleetRollout.path("deployments")) {
            String c = d.path("classId").asText();
            assertEquals((long) variantVersion.get(c), d.path("version").asLong(), d.toString());
            String depId = d.path("deploymentId").asText();
            Await.until(TIMEOUT, "deployment for " + c + " completes",
                    () -> "COMPLETED".equals(api.deployment(depId).path("status").asText()),
                    () -> api.deployment(depId).toString());
        }

        // what the devices measured and the server stored: each runs its class's variant within the class's SLOs
        for (var e : devices.entrySet()) {
            String c = e.getKey();
            JsonNode cls = classes.get(c).path("slo");
            long v = variantVersion.get(c);
            String sha = chosen.get(c).path("sha256").asText();
            JsonNode stored = api.get("/api/v1/models/" + MODEL + "/versions/" + v).expect(200);
            assertEquals(sha, stored.path("sha256").asText());
            assertTrue(stored.path("size").asLong() <= cls.path("maxModelBytes").asLong(), stored.toString());
            for (String dev : e.getValue()) {
                List<JsonNode> windows = new ArrayList<>();
                Await.until(TIMEOUT, dev + " reports " + WINDOWS + " windows of v" + v, () -> {
                    windows.clear();
                    for (JsonNode w : api.get("/api/v1/devices/" + dev + "/telemetry?limit=100").expect(200)) {
                        if (w.path("model").path("version").asLong() == v && w.path("inferences").asLong() > 0) {
                            windows.add(w);
                        }
                    }
                    return windows.size() >= WINDOWS;
                }, () -> api.device(dev).toString());
                assertEquals(v, api.device(dev).path("active").path("version").asLong());
                for (JsonNode w : windows) {
                    assertEquals(sha, w.path("model").path("sha256").asText(), w.toString());
                    double p95 = w.path("latency").path("p95").asDouble();
                    assertTrue(p95 > 0 && p95 <= cls.path("p95LatencyMs").asDouble(), String.format(Locale.ROOT,
                            "%s (%s, v%d) window p95 %.3f ms over the class SLO %.3f ms: %s", dev, c, v, p95,
                            cls.path("p95LatencyMs").asDouble(), w));
                    if (cls.hasNonNull("maxEnergyMj")) {
                        assertTrue(w.hasNonNull("energyMj"), w.toString());
                        assertTrue(w.path("energyMj").asDouble() <= cls.path("maxEnergyMj").asDouble(), w.toString());
                    }
                }
                Log.info(String.format(Locale.ROOT, "%s (%s) runs v%d %s: window p95s %s ms (SLO %.3f), energy %s mJ",
                        dev, c, v, chosen.get(c).path("id").asText(), windows.stream()
                                .map(w -> String.format(Locale.ROOT, "%.3f", w.path("latency").path("p95").asDouble()))
                                .toList(), cls.path("p95LatencyMs").asDouble(),
                        windows.stream().map(w -> w.path("energyMj").asText()).toList()));
            }
        }
    }

    static ObjectNode deviceClass(String id, List<String> precisions, long ramMb, double latencyScale, double idleW,
            double activeW, double p95Ms, long maxBytes, Double maxEnergyMj) {
        ObjectNode body = Api.JSON.createObjectNode().put("id", id).put("name", "three-class IT " + id)
                .put("arch", "x86_64").put("cores", 2).put("ramMb", ramMb).put("storageMb", 4096)
                .put("latencyScale", latencyScale);
        ArrayNode p = body.putArray("precisions");
        precisions.forEach(p::add);
        body.putObject("power").put("idleWatts", idleW).put("activeWatts", activeW);
        ObjectNode slo = body.putObject("slo").put("p95LatencyMs", p95Ms).put("maxModelBytes", maxBytes);
        if (maxEnergyMj != null) {
            slo.put("maxEnergyMj", maxEnergyMj);
        }
        body.putObject("accuracyBudget").put("overallPoints", 2.0).put("cohortPoints", 4.0);
        return body;
    }

    /** One line per candidate: its id and each SLO's verdict, value and limit (what an assertion message needs). */
    static String verdicts(JsonNode plan) {
        StringBuilder b = new StringBuilder(plan.path("stoppedBecause").asText());
        for (JsonNode c : plan.path("candidates")) {
            b.append("\n  ").append(c.path("id").asText()).append(' ').append(c.path("status").asText())
                    .append(' ').append(c.path("error").asText(""));
            for (JsonNode s : c.path("slos")) {
                b.append(" | ").append(s.path("slo").asText()).append(' ').append(s.path("verdict").asText())
                        .append(' ').append(s.path("value").asText()).append('/').append(s.path("limit").asText());
            }
        }
        return b.toString();
    }

    static JsonNode candidate(JsonNode plan, String id) {
        for (JsonNode c : plan.path("candidates")) {
            if (id.equals(c.path("id").asText())) {
                return c;
            }
        }
        throw new AssertionError("no candidate " + id + " in " + plan);
    }

    static JsonNode slo(JsonNode candidate, String name) {
        for (JsonNode s : candidate.path("slos")) {
            if (name.equals(s.path("slo").asText())) {
                return s;
            }
        }
        throw new AssertionError("no SLO " + name + " in " + candidate);
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static byte[] calibration(int n) {
        return TestModels.npz(Map.of("x", NpyArray.ofFloats(inputs(n, 21), n, TestModels.RMLP_IN)));
    }

    /** Inputs with labels: the float model's own top-1, so accuracy measures how far a variant strays from it. */
    static byte[] validation(byte[] model, int n) {
        float[] x = inputs(n, 22);
        float[][] logits = TestModels.run(model, "x", new long[] {n, TestModels.RMLP_IN}, x);
        long[] labels = new long[n];
        long[] cohorts = new long[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int k = 1; k < logits[i].length; k++) {
                if (logits[i][k] > logits[i][best]) {
                    best = k;
                }
            }
            labels[i] = best;
            cohorts[i] = best % 3;
        }
        return TestModels.npz(Map.of("x", NpyArray.ofFloats(x, n, TestModels.RMLP_IN), "labels", NpyArray.ofLongs(labels, n),
                "cohort", NpyArray.ofLongs(cohorts, n)));
    }

    static float[] inputs(int n, long seed) {
        return io.edgefleet.engine.onnx.OnnxBuilder.randomNormal(seed, n * TestModels.RMLP_IN, 1f);
    }

}
