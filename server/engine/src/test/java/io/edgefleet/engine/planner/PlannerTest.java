package io.edgefleet.engine.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.engine.TestData;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.Evaluator;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.gate.AccuracyGate;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.pipeline.CompressionJob;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import io.edgefleet.engine.planner.Plan.CandidateResult;
import io.edgefleet.engine.planner.Plan.Verdict;
import io.edgefleet.engine.prune.PruneFixtures;
import io.edgefleet.engine.report.ReportWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The planner on a miniature ResNet-style CNN built in code. Three synthetic classes must get three different
 * variants, each meeting its SLOs; the rest covers the no-choice case, the budget, early stop and cancel.
 */
class PlannerTest {
    static final long MIB = 1L << 20;
    static OnnxModel model;
    static Dataset calib;
    static Dataset valid;
    static final Map<String, String> TINY = Map.of("channelMultiple", "1", "calibrationSamples", "40");

    /**
     * A per-class latency model plugged in through the cost-model seam: device latency proportional to MACs, so the
     * gateway's latency SLO separates candidates deterministically (wall-clock microseconds of a tiny model would
     * not).
     */
    static final CostModel MACS = new CostModel() {
        @Override
        public Estimate estimate(Measured m, DeviceClassProfile c) {
            double ms = m.macs() * 1e-4 * c.latencyScale();
            return new Estimate(ms, ms, c.hasPowerModel() ? ms * c.inferenceWatts() : null, "MACs x 1e-4 ms",
                    "MACs-proportional latency x class watts");
        }

        @Override
        public String name() {
            return "macs-proportional (test)";
        }
    };

    @BeforeAll
    static void fixtures() {
        model = PruneFixtures.residualCnn(7);
        calib = PruneFixtures.randomData(model, 40, 1);
        Dataset v = PruneFixtures.randomData(model, 60, 2);
        valid = Dataset.of(Map.of("x", v.input("x")), null, TestData.cohorts(60, 3));
    }

    static DeviceClassProfile profile(String id, Set<String> precisions, double p95, long maxBytes, Double energy,
            AccuracyGate gate) {
        return new DeviceClassProfile(id, precisions, 512 * MIB, 1024 * MIB, 1.5, 4.0, 1.0,
                new DeviceClassProfile.Slo(p95, maxBytes, energy), gate);
    }

    static Planner.Builder planner(DeviceClassProfile c) {
        return Planner.builder(model, c).modelName("cnn").calibration(calib).validation(valid).commonParams(TINY)
                .budget(new PlanBudget(12, 10, PlanBudget.DEFAULT_MARGIN, PlanBudget.DEFAULT_TIE_POINTS, 5))
                .keepVariants(true);
    }

    static void assertMeetsEverySlo(Plan plan) {
        CandidateResult chosen = plan.chosen();
        assertNotNull(chosen, plan.reason());
        assertTrue(chosen.meetsAll());
        assertFalse(chosen.slos().isEmpty());
        chosen.slos().forEach(s -> {
            assertEquals(Verdict.MET, s.verdict(), s.toString());
            assertTrue(s.value() <= s.limit() + 1e-9, s.toString());
        });
    }

    /** Every variant the planner built loads in ONNX Runtime from its bytes and answers like the base in shape. */
    static void roundTrip(Planner.Outcome out) {
        assertFalse(out.variants().isEmpty());
        Map<String, TensorData> sample = Evaluator.firstSample(model, valid);
        long[] baseShape;
        try (OrtRunner base = OrtRunner.open(model)) {
            baseShape = base.run(sample).get("logits").shape();
        }
        out.variants().forEach((id, v) -> {
            OnnxModel read = OnnxModel.read(v.toBytes());
            assertEquals(v.sha256(), read.sha256(), id);
            try (OrtRunner r = OrtRunner.open(read)) {
                TensorData y = r.run(sample).get("logits");
                assertEquals(java.util.Arrays.toString(baseShape), java.util.Arrays.toString(y.shape()), id);
                for (float f : y.toFloatArray()) {
                    assertTrue(Float.isFinite(f), id);
                }
            }
        });
    }

    @Test
    void threeClassesGetThreeDifferentVariantsEachWithinItsSlos() {
        // A fast box: every precision, loose SLOs, today's declared-profile cost model with real ORT latency.
        DeviceClassProfile fast = profile("fast-box", Set.of("fp32", "fp16", "int8"), 1000, 64 * MIB, 1000.0,
                new AccuracyGate(1, 2));
        Planner.Outcome f = planner(fast).build().run();

        // A gateway: float only, a p95 SLO the float model misses (latency from MACs, see MACS).
        double floatMs = f.plan().candidates().get(0).macs() * 1e-4;
        DeviceClassProfile gateway = profile("gateway", Set.of("fp32"), 0.9 * floatMs, 64 * MIB, null,
                new AccuracyGate(15, 30));
        Planner.Outcome g = planner(gateway).costModel(MACS).build().run();

        // An int8-only board whose byte budget is one byte under what plain static int8 produces.
        long int8Bytes = Long.MAX_VALUE;
        for (String r : List.of("static-int8-entropy", "static-int8-minmax")) {
            int8Bytes = Math.min(int8Bytes, CompressionJob.builder(model, RecipeRegistry.get(r)).calibration(calib)
                    .validation(valid).measureLatency(false).build().run().variant().sizeBytes());
        }
        DeviceClassProfile board = profile("int8-board", Set.of("int8"), 1000, int8Bytes - 1, null,
                new AccuracyGate(15, 30));
        Planner.Outcome b = planner(board).costModel(MACS).build().run();

        for (Planner.Outcome o : List.of(f, g, b)) {
            assertMeetsEverySlo(o.plan());
            roundTrip(o);
            assertNotNull(o.chosenVariant());
            assertEquals(o.plan().chosen().sha256(), o.chosenVariant().sha256());
            assertEquals(o.plan().chosen().recipe(), o.chosenVariant().metadata().get(CompressionJob.META_RECIPE));
        }
        assertEquals("identity", f.plan().choice());
        assertTrue(f.plan().stoppedBecause().startsWith("early stop"), f.plan().stoppedBecause());
        assertEquals(1, f.plan().candidates().size());
        assertTrue(f.plan().sources().latency().contains("declared latency scale"), f.plan().sources().latency());
        assertTrue(f.plan().sources().energy().contains("declared power model"), f.plan().sources().energy());

        assertEquals("prune-structured[target=0.75]", g.plan().choice());
        CandidateResult floatOnGateway = g.plan().candidates().get(0);
        assertEquals("identity", floatOnGateway.id());
        assertEquals(List.of("p95LatencyMs"), floatOnGateway.misses().stream().map(Plan.SloCheck::slo).toList());
        assertTrue(g.plan().skipped().stream().anyMatch(s -> s.startsWith("fp16: the class has no float16")));
        assertTrue(g.plan().candidates().stream().noneMatch(c -> c.requires().contains("int8")));

        assertEquals("prune-structured-int8[target=0.75]", b.plan().choice());
        assertTrue(b.plan().candidates().stream().filter(c -> c.recipe().startsWith("static-int8")).allMatch(c ->
                c.misses().stream().anyMatch(m -> m.slo().equals("modelBytes"))));
        assertTrue(b.plan().candidates().stream().allMatch(c -> c.requires().equals(List.of("int8"))));

        assertEquals(3, Set.of(f.plan().choice(), g.plan().choice(), b.plan().choice()).size());
        // baselines: the uncompressed model and the chosen recipe's aggressive reference
        assertEquals(List.of("uncompressed", "aggressive-reference"),
                b.plan().baselines().stream().map(Plan.Baseline::role).toList());
        assertEquals(model.sha256(), b.plan().baselines().get(0).sha256());
        assertTrue(b.plan().baselines().get(1).description().startsWith("prune-structured-int8: "),
                b.plan().baselines().get(1).description());
        assertNotNull(b.plan().baselines().get(1).sha256());
        // the float model chosen: the uncompressed baseline is recorded, the reference is said not to exist
        assertEquals(List.of("uncompressed", "aggressive-reference"),
                f.plan().baselines().stream().map(Plan.Baseline::role).toList());
        assertNull(f.plan().baselines().get(1).sha256());
    }

    @Test
    void aBenchmarkedBaseModelMakesEveryCandidateCostedRelativeToIt() {
        // the class's devices benchmarked the base model when the server timed it at a median of 10 ms: the fit's line
        // (device p95 = 3 x server p50) maps that to 30 ms, which is what they measured
        FittedCostModel fit = new FittedCostModel("gw", new FittedCostModel.Line(3, 0, 0), new FittedCostModel.Line(2, 0,
                0), null, 2, 1, 0, null, Map.of(model.sha256(), 10.0));
        DeviceClassProfile gw = profile("gw", Set.of("fp32"), 1000, 64 * MIB, null, new AccuracyGate(1, 2));
        Planner planner = planner(gw).costModel(fit).candidates(List.of(
                new Candidate("identity", "identity", new TreeMap<>(), List.of("fp32")))).build();

        // a candidate measured at 0.02 ms beside the base's 0.05 ms in the same interleaved runs: 0.4 x the base, so
        // 4 ms on the benchmark's scale, whatever the server's speed was when the plan ran
        var base = new io.edgefleet.protocol.LatencyStats(0.05, 0.08, 0.09, 0.1, 0.06);
        var variant = new io.edgefleet.protocol.LatencyStats(0.02, 0.05, 0.06, 0.07, 0.03);
        CostModel.Measured raw = new CostModel.Measured(0.02, 0.05, 0.03, 100, 1000);
        CostModel.Measured rel = planner.relativeToBenchmark(raw, new io.edgefleet.engine.eval.Latency(1, 10, base,
                variant));
        assertEquals(4.0, rel.p50Ms(), 1e-12);
        assertEquals(12.0, fit.estimate(rel, gw).p95Ms(), 1e-12);
        // without a latency measurement, or for a model nobody benchmarked, the measurement is used as is
        assertEquals(raw, planner.relativeToBenchmark(raw, null));
        FittedCostModel other = new FittedCostModel("gw", fit.p95(), fit.mean(), null, 2, 1, 0, null, Map.of("f00", 10.0));
        assertEquals(raw, planner(gw).costModel(other).build().relativeToBenchmark(raw,
                new io.edgefleet.engine.eval.Latency(1, 10, base, variant)));

        // the whole plan: the base model costs about what its devices measured (30 ms: its ratio to itself is about 1,
        // while its raw server median here is well under a millisecond), and the plan says how it costed
        Plan p = planner.run().plan();
        CandidateResult identity = p.candidates().get(0);
        assertTrue(identity.serverP50Ms() < 5, identity.toString());
        assertTrue(identity.deviceP95Ms() > 15 && identity.deviceP95Ms() < 60, identity.toString());
        assertTrue(p.sources().latency().contains("base model's benchmarked p50 (10.00 ms)"), p.sources().latency());
    }

    @Test
    void noCandidateMeetsEverySloSaysSoAndShowsTheClosest() {
        DeviceClassProfile tiny = profile("tiny", Set.of("fp32"), 1000, 1000, 5.0, new AccuracyGate(1, 2));
        tiny = new DeviceClassProfile(tiny.id(), tiny.precisions(), tiny.ramBytes(), tiny.storageBytes(), null, null,
                1.0, tiny.slo(), tiny.accuracyBudget()); // no power model: the energy SLO cannot be checked
        Planner.Outcome out = planner(tiny).costModel(MACS).candidates(List.of(
                new Candidate("identity", "identity", new TreeMap<>(), List.of("fp32")),
                new Candidate("fp16-storage", "fp16-storage", new TreeMap<>(), List.of("fp32")))).build().run();
        Plan p = out.plan();
        assertNull(p.choice());
        assertNull(out.chosenVariant());
        assertTrue(p.reason().startsWith("no candidate meets every SLO"), p.reason());
        assertEquals(2, p.closest().size());
        // fp16-storage is half the size: nearer the byte limit
        assertEquals("fp16-storage", p.closest().get(0).id());
        for (Plan.Closest c : p.closest()) {
            assertTrue(c.misses().stream().anyMatch(m -> m.startsWith("modelBytes:")), c.misses().toString());
            assertTrue(c.misses().stream().anyMatch(m -> m.startsWith("energyMj: unknown")), c.misses().toString());
        }
        assertTrue(p.candidates().stream().allMatch(c -> !c.meetsAll()));
        String html = PlanWriter.html(p);
        assertTrue(html.contains("Closest candidates"));
        assertTrue(html.contains("No choice"));
    }

    @Test
    void candidateBudgetTimeBudgetAndEarlyStop() {
        DeviceClassProfile fast = profile("fast", Set.of("fp32", "int8"), 1000, 64 * MIB, null,
                new AccuracyGate(100, 100));
        Planner.Outcome two = planner(fast).costModel(MACS).budget(new PlanBudget(2, 10, -1, 0.1, 0)).build().run();
        assertEquals(2, two.plan().candidates().size());
        assertTrue(two.plan().stoppedBecause().startsWith("budget: 2 candidates built"), two.plan().stoppedBecause());
        assertNotNull(two.plan().choice());

        Planner.Outcome none = planner(fast).budget(new PlanBudget(5, 1e-9, -1, 0.1, 0)).build().run();
        assertTrue(none.plan().candidates().isEmpty());
        assertTrue(none.plan().stoppedBecause().contains("minutes spent"), none.plan().stoppedBecause());
        assertNull(none.plan().choice());

        // latencyRuns 0: the p95 SLO cannot be checked, so nothing meets every SLO and nothing stops early
        Planner.Outcome unmeasured = planner(fast).budget(new PlanBudget(2, 10, 0.1, 0.1, 0)).build().run();
        assertEquals(2, unmeasured.plan().candidates().size());
        assertTrue(unmeasured.plan().candidates().stream().allMatch(c -> c.slos().stream().anyMatch(s ->
                s.slo().equals("p95LatencyMs") && s.verdict() == Verdict.UNKNOWN)));
        assertNull(unmeasured.plan().choice());
    }

    @Test
    void cancelStopsBetweenCandidatesWithoutAPlan() {
        DeviceClassProfile fast = profile("fast", Set.of("fp32", "int8"), 1000, 64 * MIB, null,
                new AccuracyGate(100, 100));
        AtomicBoolean cancel = new AtomicBoolean();
        List<String> messages = new ArrayList<>();
        Planner p = planner(fast).costModel(MACS).budget(new PlanBudget(12, 10, -1, 0.1, 0))
                .progress((fr, msg) -> {
                    messages.add(msg);
                    if (msg.startsWith("candidate 2/")) {
                        cancel.set(true);
                    }
                }).cancelled(cancel::get).build();
        assertThrows(CancellationException.class, p::run);
        assertTrue(messages.stream().anyMatch(m -> m.startsWith("candidate 1/")));
        assertTrue(messages.stream().noneMatch(m -> m.startsWith("candidate 3/")), messages.toString());
    }

    @Test
    void planJsonAndPageCarryEveryCandidateTheFrontierAndTheChoice() throws Exception {
        DeviceClassProfile fast = profile("fast", Set.of("fp32", "int8"), 1000, 64 * MIB, 1000.0,
                new AccuracyGate(100, 100));
        Planner.Outcome out = planner(fast).costModel(MACS).candidates(List.of(
                new Candidate("identity", "identity", new TreeMap<>(), List.of("fp32")),
                new Candidate("fp16-storage", "fp16-storage", new TreeMap<>(), List.of("fp32")),
                Candidate.of("prune-structured", new TreeMap<>(Map.of("target", "0.5")),
                        new TreeMap<>(Map.of("target", "0.5", "channelMultiple", "1", "calibrationSamples", "40")),
                        List.of("fp32")))).budget(new PlanBudget(5, 10, -1, 0.1, 0)).build().run();
        Plan p = out.plan();
        // MACs latency: identity and fp16-storage tie on latency, fp16-storage is smaller with the same accuracy;
        // pruning halves the MACs: both are on the frontier, identity is dominated by fp16-storage
        assertEquals("fp16-storage", p.choice());
        assertTrue(p.frontier().contains("fp16-storage"));
        assertFalse(p.frontier().contains("identity"));
        JsonNode json = ReportWriter.mapper().readTree(PlanWriter.json(p));
        assertEquals(3, json.get("candidates").size());
        assertEquals("fp16-storage", json.get("choice").asText());
        assertEquals(p.frontier().size(), json.get("frontier").size());
        assertTrue(json.get("candidates").get(0).get("slos").size() >= 5);
        assertEquals(Planner.PICK_RULE, json.get("pickRule").asText());
        String html = PlanWriter.html(p);
        assertTrue(html.contains("<svg"));
        assertEquals(3, html.split("<circle").length - 1);
        assertFalse(html.contains("<script"));
    }

    @Test
    void pickRuleAndFrontier() {
        CandidateResult a = result(0, "a", 95.0, 1000, 5.0, true);
        CandidateResult b = result(1, "b", 94.95, 500, 6.0, true); // tie with a within 0.1: smaller wins
        CandidateResult c = result(2, "c", 99.0, 100, 1.0, false); // best everywhere but misses an SLO
        CandidateResult d = result(3, "d", 90.0, 2000, 9.0, true); // dominated by a
        assertEquals("b", Planner.pick(List.of(a, b, c, d), 0.1).id());
        assertEquals("a", Planner.pick(List.of(a, b, c, d), 0.01).id());
        assertNull(Planner.pick(List.of(c), 0.1));
        assertEquals(List.of("c"), Planner.frontier(List.of(a, b, c, d)));
        assertEquals(List.of("a", "b"), Planner.frontier(List.of(a, b, d)));
    }

    static CandidateResult result(int i, String id, double acc, long bytes, double p95, boolean meets) {
        return new CandidateResult(i, id, "r", new TreeMap<>(), List.of(), Plan.Status.EVALUATED, null, "sha", bytes,
                0L, null, null, p95, null, 0L, acc, 100 - acc, null, "", List.of(), meets, false, false, 0);
    }

    @Test
    void declaredProfileScalesTheServerMeasurementAndUsesThePowerModel() {
        DeviceClassProfile c = new DeviceClassProfile("c", Set.of("fp32"), MIB, MIB, 1.0, 5.0, 3.0,
                new DeviceClassProfile.Slo(10, 10, null), new AccuracyGate(1, 1));
        CostModel.Estimate e = CostModel.DeclaredProfile.INSTANCE.estimate(
                new CostModel.Measured(1.0, 2.0, 1.5, 0, 0), c);
        assertEquals(6.0, e.p95Ms(), 1e-12);
        assertEquals(4.5, e.meanMs(), 1e-12);
        assertEquals(4.5 * 4.0, e.energyMj(), 1e-12); // ms x (active - idle) W = mJ
        DeviceClassProfile noPower = new DeviceClassProfile("c", Set.of("fp32"), MIB, MIB, null, null, 1.0,
                c.slo(), c.accuracyBudget());
        assertNull(CostModel.DeclaredProfile.INSTANCE.estimate(new CostModel.Measured(1.0, 2.0, 1.5, 0, 0), noPower)
                .energyMj());
    }

    @Test
    void candidatesFollowTheClassPrecisions() {
        DeviceClassProfile fp16 = profile("a", Set.of("fp32", "fp16", "int8"), 1, 1, null, new AccuracyGate(1, 1));
        DeviceClassProfile plain = profile("b", Set.of("fp32"), 1, 1, null, new AccuracyGate(1, 1));
        List<String> withFp16 = CandidateGenerator.forClass(fp16, true, Map.of()).candidates().stream()
                .map(Candidate::recipe).toList();
        List<String> without = CandidateGenerator.forClass(plain, false, Map.of()).candidates().stream()
                .map(Candidate::recipe).toList();
        assertTrue(withFp16.contains("fp16") && !withFp16.contains("fp16-storage"));
        assertTrue(without.contains("fp16-storage") && !without.contains("fp16"));
        assertTrue(without.stream().noneMatch(r -> r.contains("int8") || r.equals("mixed-precision")));
        // without calibration data the recipes that need it are skipped, with the reason
        assertEquals(List.of("identity", "fp16-storage"), without);
        assertTrue(CandidateGenerator.forClass(plain, false, Map.of()).skipped().stream()
                .anyMatch(s -> s.contains("needs calibration data")));
        Map<String, String> common = new LinkedHashMap<>(TINY);
        Candidate pruned = CandidateGenerator.forClass(plain, true, common).candidates().stream()
                .filter(c -> c.recipe().equals("prune-structured")).findFirst().orElseThrow();
        assertEquals("1", pruned.params().get("channelMultiple"));
        assertEquals("prune-structured[target=0.75]", pruned.id());
    }
}
