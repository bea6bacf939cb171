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
import io.edgefleet.it.CpuSampler;
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

/**
 * Issue 15's first done-when, end to end: the packaged server, a real broker and database, real agents. Three device
 * classes (an int8-only board with a byte budget a quarter of the float model, a float gateway with a p95 SLO the
 * float model misses, a fast box with loose SLOs) are planned for one uploaded model with calibration and validation
 * data; each plan must choose a different variant that meets every SLO; a fleet rollout deploys each class its own
 * variant; and the telemetry the server stored from the class's devices shows them running that variant within the
 * class's p95, byte and energy SLOs. Timings: see docs/planner.md, "Three classes end to end".
 *
 * <p>The boards and gateways emulate slower hardware with the agent's {@code speedFactor} (it sleeps (f - 1) x each
 * inference's duration), and their classes declare the same {@code latencyScale}, so the planner's declared-profile
 * estimate (server p95 x scale) and the devices' own measurements describe the same hardware.
 *
 * <p>Latency is a property of this machine at this moment, so nothing latency-bound is fixed in advance. The gateway
 * follows an operator's flow: its devices benchmark the float model paced at their own inference interval (runs 20 ms
 * apart find the weights out of the caches: the devices' latency is not the server's back-to-back latency x the
 * declared scale), the server fits the class's cost model from that, the class's p95 SLO is set to a share of the
 * float p95 its devices measured, and the gateway's plan, right after, costs every candidate with the fitted model. A device's SLO
 * check reads its steady state: the windows after the one that activated the variant (its load and warm-up), and the
 * median of their p95s, so one window with a scheduler stall on a loaded build machine does not decide it, while a
 * variant that is slower than the SLO in most windows fails. The agents' health watch likewise rolls back on latency
 * only when two windows in a row are over the SLO (docs/rollouts.md).
 *
 * <p>Two of five whole-suite `.ci/run`s in sessions 12-13 saw the gateway's devices run the variant 1.3-3x slower for
 * up to 22 s right after its activation, and their health watch rightly rolled it back; 44 runs of this test alone or
 * of this module did not. So that the next such failure explains itself, the rollouts and checks run under a {@link
 * CpuSampler} (the machine's busy and steal share each second, its busiest processes and this JVM's busiest threads),
 * logged with every device's stored windows, and the fleet start logs which threads earlier scenarios left in this JVM.
 */
@org.junit.jupiter.api.parallel.Isolated("asserts measured latencies against the classes' SLOs: alone, so other scenarios' load is not in them")
class ThreeClassPlanIT {
    static final Duration TIMEOUT = Duration.ofSeconds(120);
    static final Duration PLAN_TIMEOUT = Duration.ofSeconds(300);
    static final String MODEL = "it3-mlp";
    static final String BOARD = "it3-board";
    static final String GATEWAY = "it3-gateway";
    static final String FAST = "it3-fastbox";
    static final double BOARD_SCALE = 4;
    static final double GATEWAY_SCALE = 8;
    /** Steady-state windows per device whose p95s are judged (after the window that activated the variant). */
    static final int WINDOWS = 5;
    /**
     * The gateway's p95 SLO as a share of the float model's p95 as its own devices measured it in the paced benchmark
     * (the mean of the two devices' p95s, about 150 runs each): the operator's "this model is too slow here". Two ratios
     * decide the test. The float model misses in the plan by 1 / share: the planner costs it relative to its own
     * benchmark (the fitted line at the benchmark's server median x the float model's ratio to itself in interleaved
     * runs, about 1), so its estimate is what the devices measured, within 4 % in ten runs. The chosen variant holds on
     * the devices when its window p95s sit below the share x the float's device p95. With 96 positions per sample
     * (session 13) the float model is compute-bound on the devices (14-20 ms p95 on a quiet machine) and the variant's
     * windows read 3-5.6 ms, so the SLO leaves it 2.5-3.7x room, 9-13 ms (1.1-1.6 ms of real compute at the gateway's
     * speed factor): more than the 0.5 ms transient that rolled the variant back once at 16 positions (session 12's
     * `.ci/run` of 0d7bb2f, where the float model measured 4.9 ms and left 1.5x room). The float model stays 1.18x over.
     */
    static final double GATEWAY_SHARE = 0.85;
    /** Timed server runs per candidate in the plans, and of the benchmarked artifact: p95s that one stall cannot move. */
    static final int PLAN_RUNS = 200;
    static final int SERVER_RUNS = 300;
    /** Every agent's inference interval (its built-in loop), and so the gateway benchmark's pace. */
    static final int INTERVAL_MS = 20;
    /** Seconds the gateway's devices run the paced benchmark: 150 runs each at 20 ms. */
    static final int BENCHMARK_SECONDS = 3;
    /** Floats per sample: positions x features of {@link TestModels#redundantMlp} with {@link TestModels#RSEQ_POSITIONS}. */
    static final int SAMPLE = TestModels.RSEQ_POSITIONS * TestModels.RMLP_IN;

    static Fleet fleet;
    static Api api;

    @BeforeAll
    static void startFleet() {
        // what earlier scenarios in this JVM left running: a thread that should have stopped shows here
        Log.info("threads in this JVM before the fleet starts: " + CpuSampler.threadCensus());
        fleet = Fleet.start("threeclass", Map.of("edgefleet.benchmarks.server-runs", String.valueOf(SERVER_RUNS)));
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
        TestModels.Model model = TestModels.redundantMlp(15, TestModels.RSEQ_POSITIONS);
        long floatBytes = model.bytes().length;
        long boardBytes = floatBytes / 4;
        Map<String, Double> speed = Map.of(BOARD, BOARD_SCALE, GATEWAY, GATEWAY_SCALE, FAST, 1.0);
        Map<String, ObjectNode> classes = new LinkedHashMap<>();
        classes.put(BOARD, deviceClass(BOARD, List.of("int8"), 256, BOARD_SCALE, 0.4, 1.2, 200.0, boardBytes, 50.0));
        // the gateway's p95 SLO is set once its devices have measured the float model (below); until then it is loose
        classes.put(GATEWAY, deviceClass(GATEWAY, List.of("fp32"), 1024, GATEWAY_SCALE, 2.0, 6.0, 200.0, 64L << 20,
                null));
        ObjectNode fast = deviceClass(FAST, List.of("fp32", "fp16", "int8"), 8192, 1.0, 10.0, 30.0, 200.0, 64L << 20,
                200.0);
        fast.put("fp16Arithmetic", true);
        classes.put(FAST, fast);
        long version = api.uploadModel(MODEL, model.bytes()).path("version").asLong();
        api.postRaw("/api/v1/datasets/it3-calib", "application/octet-stream", calibration(128)).expect(201);
        api.postRaw("/api/v1/datasets/it3-valid", "application/octet-stream", validation(model.bytes(), 300))
                .expect(201);
        for (ObjectNode c : classes.values()) {
            api.post("/api/v1/device-classes", c).expect(201);
        }
        Map<String, List<String>> devices = new LinkedHashMap<>();
        for (String id : classes.keySet()) {
            List<String> ids = List.of(id + "-1", id + "-2");
            devices.put(id, ids);
            for (Fleet.Device d : fleet.register(id, ids.toArray(String[]::new))) {
                fleet.startAgent(d, b -> b.telemetryWindowSeconds(2).inferenceIntervalMs(INTERVAL_MS)
                        .speedFactor(speed.get(id)));
            }
        }
        for (List<String> ids : devices.values()) {
            for (String dev : ids) {
                Await.until(TIMEOUT, dev + " online", () -> api.device(dev).path("online").asBoolean(),
                        () -> api.device(dev).toString());
            }
        }

        // the operator's flow for a class whose devices idle between inferences: benchmark the float model on them
        // at their own inference interval, so the class's fitted cost model holds the cold-cache cost of that duty
        // cycle; then set the SLO from what they measured, then plan
        JsonNode bench = benchmarkPaced(GATEWAY, version);
        JsonNode costModel = api.get("/api/v1/device-classes/" + GATEWAY + "/cost-model").expect(200);
        assertEquals("fitted", costModel.path("source").asText(), costModel.toString());
        assertEquals(0, costModel.path("intervalMs").asInt(-1), costModel.toString());
        double floatDeviceP95 = bench.path("results").findValues("p95Ms").stream().mapToDouble(JsonNode::asDouble)
                .average().orElseThrow();
        double gatewayP95 = GATEWAY_SHARE * floatDeviceP95;
        Log.info(String.format(Locale.ROOT, "%s: %d bytes; gateway benchmark of the float model at the agents' %d ms "
                        + "interval: server p50 %.4f p95 %.4f ms, device p50s %s p95s %s ms, %s -> float device p95 from "
                        + "its devices %.3f ms (mean) -> gateway p95 SLO %.3f ms; board byte budget %d", model.description(),
                floatBytes, INTERVAL_MS, bench.path("serverP50Ms").asDouble(), bench.path("serverP95Ms").asDouble(),
                bench.path("results").findValuesAsText("p50Ms"), bench.path("results").findValuesAsText("p95Ms"),
                costModel.path("summary").asText(), floatDeviceP95, gatewayP95, boardBytes));
        classes.put(GATEWAY, deviceClass(GATEWAY, List.of("fp32"), 1024, GATEWAY_SCALE, 2.0, 6.0, gatewayP95,
                64L << 20, null));
        api.put("/api/v1/device-classes/" + GATEWAY, classes.get(GATEWAY)).expect(200);

        // the gateway first, so its plan measures the float model on the server right after the benchmark did; then
        // the fast box and the board (one plan worker)
        String gatewayPlan = submitPlan(GATEWAY, version, -1.0);
        String fastPlan = submitPlan(FAST, version, null);
        String boardPlan = submitPlan(BOARD, version, null);
        Map<String, JsonNode> plans = new LinkedHashMap<>();
        plans.put(GATEWAY, awaitPlan(GATEWAY, gatewayPlan));
        plans.put(FAST, awaitPlan(FAST, fastPlan));
        plans.put(BOARD, awaitPlan(BOARD, boardPlan));
        Log.info("gateway plan: " + verdicts(plans.get(GATEWAY).path("plan")));
        assertEquals("fitted:" + GATEWAY, plans.get(GATEWAY).path("plan").path("sources").path("costModel").asText(),
                plans.get(GATEWAY).path("plan").path("sources").toString());

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
        assertEquals("prune-structured[target=0.3]", chosen.get(GATEWAY).path("id").asText(),
                verdicts(plans.get(GATEWAY).path("plan")));

        // the registry holds each class's variant, and the fleet rollout gives each class its own
        Map<String, Long> variantVersion = new LinkedHashMap<>();
        for (String c : classes.keySet()) {
            long v = plans.get(c).path("resultVersion").asLong();
            variantVersion.put(c, v);
            JsonNode variants = api.get("/api/v1/device-classes/" + c + "/variants").expect(200);
            assertTrue(variants.toString().contains("\"version\":" + v), c + ": " + variants);
        }
        // where the CPU went, second by second, while the devices' SLOs are judged (CpuSampler): the windows a failure
        // prints can then be read against it
        CpuSampler cpu = CpuSampler.start(1000);
        try {
            rollOutAndCheck(classes, devices, variantVersion, chosen, version);
        } finally {
            cpu.close();
            Log.info("while rolling out and checking: " + cpu.report());
        }
    }

    /** The fleet rollouts (board and fast box, then the gateway) and each rolled-out device's SLO check. */
    static void rollOutAndCheck(Map<String, ObjectNode> classes, Map<String, List<String>> devices,
            Map<String, Long> variantVersion, Map<String, JsonNode> chosen, long version) {
        // one fleet rollout per class: the board and the fast box first, the gateway (the tight SLO) once they are
        // done, so its agents' health windows are not shared with four other agents' downloads, signature checks and
        // session loads in this JVM on a two-core machine (on a fleet each device has its own cores)
        rollOut(List.of(BOARD, FAST), version, variantVersion, devices);
        rollOut(List.of(GATEWAY), version, variantVersion, devices);

        // what the devices measured and the server stored: each runs its class's variant within the class's SLOs
        for (var e : devices.entrySet()) {
            String c = e.getKey();
            JsonNode cls = classes.get(c).path("slo");
            double sloMs = cls.path("p95LatencyMs").asDouble();
            long v = variantVersion.get(c);
            String sha = chosen.get(c).path("sha256").asText();
            JsonNode stored = api.get("/api/v1/models/" + MODEL + "/versions/" + v).expect(200);
            assertEquals(sha, stored.path("sha256").asText());
            assertTrue(stored.path("size").asLong() <= cls.path("maxModelBytes").asLong(), stored.toString());
            for (String dev : e.getValue()) {
                List<JsonNode> windows = new ArrayList<>();
                Await.until(TIMEOUT, dev + " reports " + WINDOWS + " steady windows of v" + v, () -> {
                    windows.clear();
                    for (JsonNode w : api.get("/api/v1/devices/" + dev + "/telemetry?limit=100").expect(200)) {
                        if (w.path("model").path("version").asLong() == v && w.path("inferences").asLong() > 0) {
                            windows.add(w);
                        }
                    }
                    // oldest first; the first window of the variant holds its load, warm-up and health watch
                    windows.sort(java.util.Comparator.comparingLong(w -> w.path("seq").asLong()));
                    if (!windows.isEmpty()) {
                        windows.remove(0);
                    }
                    return windows.size() >= WINDOWS;
                }, () -> api.device(dev).toString());
                assertEquals(v, api.device(dev).path("active").path("version").asLong());
                List<Double> p95s = new ArrayList<>();
                for (JsonNode w : windows) {
                    assertEquals(sha, w.path("model").path("sha256").asText(), w.toString());
                    double p95 = w.path("latency").path("p95").asDouble();
                    assertTrue(p95 > 0, w.toString());
                    p95s.add(p95);
                    if (cls.hasNonNull("maxEnergyMj")) {
                        assertTrue(w.hasNonNull("energyMj"), w.toString());
                        assertTrue(w.path("energyMj").asDouble() <= cls.path("maxEnergyMj").asDouble(), w.toString());
                    }
                }
                double median = median(p95s);
                Log.info("every stored window, oldest first: " + windows(List.of(dev)).strip());
                Log.info(String.format(Locale.ROOT, "%s (%s) runs v%d %s: window p95s %s ms, median %.3f (SLO %.3f), "
                                + "energy %s mJ", dev, c, v, chosen.get(c).path("id").asText(), p95s.stream()
                                .map(p -> String.format(Locale.ROOT, "%.3f", p)).toList(), median, sloMs,
                        windows.stream().map(w -> w.path("energyMj").asText()).toList()));
                assertTrue(median <= sloMs, String.format(Locale.ROOT, "%s (%s, v%d): the median of its steady "
                        + "windows' p95 is %.3f ms, over the class SLO of %.3f ms: %s", dev, c, v, median, sloMs, p95s));
            }
        }
    }

    /** {@code POST .../fleet-rollouts} for some classes; waits until each class's deployment has completed. */
    static void rollOut(List<String> classIds, long version, Map<String, Long> variantVersion,
            Map<String, List<String>> devices) {
        ObjectNode rollout = Api.JSON.createObjectNode();
        ArrayNode ids = rollout.putArray("classIds");
        classIds.forEach(ids::add);
        rollout.set("policy", Api.allAtOnce());
        JsonNode fleetRollout = api.post("/api/v1/models/" + MODEL + "/versions/" + version + "/fleet-rollouts",
                rollout).expect(202);
        assertEquals(classIds.size(), fleetRollout.path("deployments").size(), fleetRollout.toString());
        for (JsonNode d : fleetRollout.path("deployments")) {
            String c = d.path("classId").asText();
            assertEquals((long) variantVersion.get(c), d.path("version").asLong(), d.toString());
            String depId = d.path("deploymentId").asText();
            // on failure every device's windows, not only the class's: a stall on the whole machine shows on all six
            Await.until(TIMEOUT, "deployment for " + c + " completes",
                    () -> "COMPLETED".equals(api.deployment(depId).path("status").asText()),
                    () -> api.deployment(depId) + "\n" + windows(devices.values().stream().flatMap(List::stream)
                            .toList()));
        }
    }

    /**
     * Each device's stored windows with inferences, oldest first: end (UTC), version, inferences, p50/p95 (what a failed
     * health watch saw); the windows without any are only counted.
     */
    static String windows(List<String> deviceIds) {
        StringBuilder b = new StringBuilder();
        for (String dev : deviceIds) {
            List<JsonNode> ws = new ArrayList<>();
            api.get("/api/v1/devices/" + dev + "/telemetry?limit=100").expect(200).forEach(ws::add);
            ws.sort(java.util.Comparator.comparingLong(w -> w.path("seq").asLong()));
            b.append(dev).append(':');
            long idle = ws.stream().filter(w -> w.path("inferences").asLong() == 0).count();
            if (idle > 0) {
                b.append(' ').append(idle).append(" windows without inferences;");
            }
            for (JsonNode w : ws) {
                if (w.path("inferences").asLong() == 0) {
                    continue;
                }
                b.append(String.format(Locale.ROOT, " %tT v%s n=%d p50=%.3f p95=%.3f;",
                        java.time.Instant.ofEpochMilli(w.path("windowEnd").asLong()).atZone(java.time.ZoneOffset.UTC),
                        w.path("model").path("version").asText("-"), w.path("inferences").asLong(),
                        w.path("latency").path("p50").asDouble(), w.path("latency").path("p95").asDouble()));
            }
            b.append('\n');
        }
        return b.toString();
    }

    /**
     * {@code POST .../benchmarks} of the float model on both devices of the class, paced at each device's own inference
     * interval ({@code intervalMs: 0}); waits until the job has ended and returns it (every device measured).
     */
    static JsonNode benchmarkPaced(String classId, long version) {
        ObjectNode req = Api.JSON.createObjectNode().put("model", MODEL).put("version", version).put("devices", 2)
                .put("seconds", BENCHMARK_SECONDS).put("intervalMs", 0);
        // 503 BROKER_UNAVAILABLE means nothing was sent and to try again shortly: the server's MQTT client had more
        // publishes in flight than it may (Paho "Too many publishes in progress" while the 69 chunks of this 4.5 MB
        // artifact went out beside the six agents' start-up traffic, once in six runs at load 4)
        Api.Response[] sent = new Api.Response[1];
        Await.until(TIMEOUT, "benchmark of " + classId + " accepted", () -> {
            sent[0] = api.post("/api/v1/device-classes/" + classId + "/benchmarks", req);
            return sent[0].status() != 503;
        }, () -> sent[0].body());
        String id = sent[0].expect(202).path("id").asText();
        JsonNode[] job = new JsonNode[1];
        Await.until(TIMEOUT, "benchmark of " + classId + " ends", () -> {
            job[0] = api.get("/api/v1/device-classes/" + classId + "/benchmarks/" + id).expect(200);
            return !"RUNNING".equals(job[0].path("status").asText());
        }, () -> String.valueOf(job[0]));
        assertEquals("COMPLETED", job[0].path("status").asText(), job[0].toString());
        assertEquals(0, job[0].path("intervalMs").asInt(-1), job[0].toString());
        for (JsonNode r : job[0].path("results")) {
            // paced: about one run per interval, not the thousands a back-to-back benchmark of this model does
            assertTrue(r.path("inferences").asLong() <= BENCHMARK_SECONDS * 1000L / INTERVAL_MS + 1, r.toString());
        }
        return job[0];
    }

    /** {@code earlyStopMargin} null keeps the default (stop at the first candidate within every SLO by 10 %). */
    static String submitPlan(String deviceClass, long version, Double earlyStopMargin) {
        ObjectNode req = Api.JSON.createObjectNode().put("deviceClassId", deviceClass)
                .put("validationDataset", "it3-valid").put("calibrationDataset", "it3-calib");
        ObjectNode budget = req.putObject("budget").put("maxCandidates", 12).put("latencyRuns", PLAN_RUNS);
        if (earlyStopMargin != null) {
            budget.put("earlyStopMargin", earlyStopMargin);
        }
        // one pruning ratio for every channel group: the sensitivity curves of two 1024-wide layers take minutes on a
        // shared machine, and this model's dead units are found by the importance criterion alone
        req.putObject("params").put("allocation", "uniform").put("calibrationSamples", "64");
        return api.post("/api/v1/models/" + MODEL + "/versions/" + version + "/plans", req).expect(202).path("id")
                .asText();
    }

    static JsonNode awaitPlan(String deviceClass, String planId) {
        JsonNode[] p = new JsonNode[1];
        Await.until(PLAN_TIMEOUT, "plan for " + deviceClass + " ends", () -> {
            p[0] = api.get("/api/v1/plans/" + planId).expect(200);
            return Set.of("CHOSEN", "NO_CHOICE", "FAILED", "CANCELLED").contains(p[0].path("status").asText());
        }, () -> String.valueOf(p[0] == null ? null : p[0].path("message")));
        assertEquals("CHOSEN", p[0].path("status").asText(), deviceClass + ": " + verdicts(p[0].path("plan")));
        Log.info("plan " + deviceClass + ": " + p[0].path("choice").asText() + " (" + p[0].path("plan")
                .path("stoppedBecause").asText() + "; " + p[0].path("plan").path("seconds") + " s)");
        return p[0];
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
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
        return TestModels.npz(Map.of("x", NpyArray.ofFloats(inputs(n, 21), n, TestModels.RSEQ_POSITIONS,
                TestModels.RMLP_IN)));
    }

    /** Inputs with labels: the float model's own top-1, so accuracy measures how far a variant strays from it. */
    static byte[] validation(byte[] model, int n) {
        float[] x = inputs(n, 22);
        float[][] logits = TestModels.run(model, "x", new long[] {n, TestModels.RSEQ_POSITIONS, TestModels.RMLP_IN}, x);
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
        return TestModels.npz(Map.of("x", NpyArray.ofFloats(x, n, TestModels.RSEQ_POSITIONS, TestModels.RMLP_IN), "labels", NpyArray.ofLongs(labels, n),
                "cohort", NpyArray.ofLongs(cohorts, n)));
    }

    static float[] inputs(int n, long seed) {
        return io.edgefleet.engine.onnx.OnnxBuilder.randomNormal(seed, n * SAMPLE, 1f);
    }

}
