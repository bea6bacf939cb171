package io.edgefleet.engine.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.Progress;
import io.edgefleet.engine.TestData;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvaluatorTest {
    static final Evaluator EVAL = new Evaluator(Evaluator.Options.defaults().withLatencyRuns(2, 10));

    /** The MLP with class 0's bias raised so far that it always wins. */
    static OnnxModel alwaysClassZero(OnnxModel m) {
        Graph g = m.edit();
        float[] bias = g.initializer("fc2.bias").floats().clone();
        bias[0] = 1000f;
        g.setInitializer(TensorData.ofFloats("fc2.bias", new long[] {10}, bias));
        return g.toModel();
    }

    @Test
    void identicalModelsAgreeCompletely() {
        OnnxModel m = SampleModels.mlp(1);
        Dataset d = TestData.labelledMlp(m, 60, 6, 9);
        Quality q = EVAL.compare(m, m, d, Progress.NONE);
        assertTrue(q.labeled());
        assertEquals("logits", q.outputName());
        Quality.Slice all = q.overall();
        assertEquals(60, all.samples());
        assertEquals(54 / 60.0, all.baseAccuracy(), 1e-12);
        assertEquals(all.baseAccuracy(), all.variantAccuracy());
        assertEquals(1.0, all.top1Agreement());
        assertEquals(1.0, all.meanCosine(), 1e-12);
        assertEquals(0.0, all.maxAbsError());
        assertEquals(0.0, all.dropPoints(), 1e-12);
        assertEquals(3, q.cohorts().size());
        assertEquals(List.of(0L, 1L, 2L), q.cohorts().stream().map(Quality.Slice::cohort).toList());
        assertEquals(20, q.cohorts().get(1).samples());
    }

    @Test
    void accuracyAgreementAndCohortsMatchAnIndependentCount() {
        OnnxModel base = SampleModels.mlp(1);
        OnnxModel variant = alwaysClassZero(base);
        TensorData x = TestData.mlpInputs(90, 4);
        long[] basePred = TestData.predictions(base, x);
        long[] labels = TestData.labelsWithErrors(base, x, 9);
        long[] cohorts = TestData.cohorts(90, 3);
        Dataset d = Dataset.of(Map.of("x", x), labels, cohorts);
        Quality q = EVAL.compare(base, variant, d, Progress.NONE);

        int baseCorrect = 0;
        int variantCorrect = 0;
        int agree = 0;
        Map<Long, int[]> perCohort = new HashMap<>(); // samples, base correct, variant correct
        for (int i = 0; i < 90; i++) {
            int[] c = perCohort.computeIfAbsent(cohorts[i], k -> new int[3]);
            c[0]++;
            if (basePred[i] == labels[i]) {
                baseCorrect++;
                c[1]++;
            }
            if (labels[i] == 0) {
                variantCorrect++;
                c[2]++;
            }
            if (basePred[i] == 0) {
                agree++;
            }
        }
        assertEquals(baseCorrect / 90.0, q.overall().baseAccuracy(), 1e-12);
        assertEquals(variantCorrect / 90.0, q.overall().variantAccuracy(), 1e-12);
        assertEquals(agree / 90.0, q.overall().top1Agreement(), 1e-12);
        assertEquals(100.0 * (baseCorrect - variantCorrect) / 90, q.overall().dropPoints(), 1e-9);
        assertTrue(q.overall().maxAbsError() > 900, "the biased logit moved by ~1000");
        assertTrue(q.overall().worstCosine() < q.overall().meanCosine());
        for (Quality.Slice s : q.cohorts()) {
            int[] c = perCohort.get(s.cohort());
            assertEquals(c[0], s.samples());
            assertEquals((double) c[1] / c[0], s.baseAccuracy(), 1e-12);
            assertEquals((double) c[2] / c[0], s.variantAccuracy(), 1e-12);
        }
    }

    @Test
    void withoutLabelsTheScoreIsAgreementWithTheBase() {
        OnnxModel base = SampleModels.mlp(1);
        OnnxModel variant = alwaysClassZero(base);
        TensorData x = TestData.mlpInputs(40, 5);
        long[] basePred = TestData.predictions(base, x);
        long zeros = java.util.Arrays.stream(basePred).filter(p -> p == 0).count();
        Quality q = EVAL.compare(base, variant, Dataset.of(Map.of("x", x), null, null), Progress.NONE);
        assertTrue(!q.labeled());
        assertNull(q.overall().baseAccuracy());
        assertEquals(100.0, q.overall().basePercent());
        assertEquals(100.0 * zeros / 40, q.overall().variantPercent(), 1e-9);
        assertEquals(100.0 * (40 - zeros) / 40, q.overall().dropPoints(), 1e-9);
        assertTrue(q.cohorts().isEmpty());
    }

    @Test
    void nanOutputsAreCountedNotHidden() {
        OnnxModel base = SampleModels.mlp(1);
        Graph g = base.edit();
        float[] bias = new float[10];
        java.util.Arrays.fill(bias, Float.NaN);
        g.setInitializer(TensorData.ofFloats("fc2.bias", new long[] {10}, bias));
        Quality q = EVAL.compare(base, g.toModel(), TestData.labelledMlp(base, 12, 0, 3), Progress.NONE);
        assertEquals(12, q.overall().nonFinite());
        assertEquals(0.0, q.overall().variantAccuracy());
        assertEquals(0.0, q.overall().worstCosine());
    }

    @Test
    void batchingDoesNotChangeTheNumbers() {
        OnnxModel base = SampleModels.mlp(2);
        OnnxModel variant = alwaysClassZero(base);
        Dataset d = TestData.labelledMlp(base, 50, 5, 8);
        Quality one = new Evaluator(new Evaluator.Options(1, 1, 0, 1, null)).compare(base, variant, d, Progress.NONE);
        Quality many = new Evaluator(new Evaluator.Options(1, 16, 0, 1, null)).compare(base, variant, d,
                Progress.NONE);
        assertEquals(one.overall().baseAccuracy(), many.overall().baseAccuracy());
        assertEquals(one.overall().top1Agreement(), many.overall().top1Agreement());
        assertEquals(one.overall().meanCosine(), many.overall().meanCosine(), 1e-9);
    }

    @Test
    void progressReachesOne() {
        OnnxModel m = SampleModels.mlp(1);
        List<Double> seen = new ArrayList<>();
        EVAL.compare(m, m, TestData.labelledMlp(m, 70, 0, 1), (f, msg) -> seen.add(f));
        assertEquals(1.0, seen.get(seen.size() - 1));
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i) >= seen.get(i - 1));
        }
    }

    @Test
    void macsAndParametersOfTheSampleModels() {
        ModelStats mlp = EVAL.stats(SampleModels.mlp(1), null);
        assertEquals(64 * 32 + 32 * 10, mlp.macs());
        assertEquals(32 * 64 + 32 + 10 * 32 + 10, mlp.parameters());
        assertEquals(4 * mlp.parameters(), mlp.parameterBytes());
        assertEquals(Map.of("Gemm", (long) (64 * 32 + 32 * 10)), mlp.macsByOp());

        ModelStats cnn = EVAL.stats(SampleModels.cnn(1), null);
        long conv1 = 8 * 8 * 8 * 9;
        long conv2 = 8 * 8 * 8 * 72;
        assertEquals(conv1 + conv2 + 80, cnn.macs());
        assertEquals(conv1 + conv2, cnn.macsByOp().get("Conv"));
        assertEquals(2, cnn.opHistogram().get("BatchNormalization"));

        ModelStats mm = EVAL.stats(SampleModels.matMulAdd(1), null);
        assertEquals(16 * 32 + 32 * 4, mm.macs());
        // Batch size scales MACs: stats are per sample only because the probe runs batch 1.
        TensorData four = TensorData.ofFloats("x", new long[] {4, 16}, new float[64]);
        assertEquals(4 * mm.macs(), EVAL.stats(SampleModels.matMulAdd(1), Map.of("x", four)).macs());
    }

    @Test
    void macsOfOtherOpForms() {
        Map<String, long[]> s = new HashMap<>();
        s.put("a", new long[] {8, 4});
        s.put("b", new long[] {4, 6});
        s.put("y", new long[] {8, 6});
        s.put("at", new long[] {4, 8});
        s.put("x", new long[] {1, 4, 5, 5});
        s.put("w", new long[] {4, 2, 3, 3}); // grouped: 4 out channels, 2 in per group
        s.put("c", new long[] {1, 4, 5, 5});
        s.put("wt", new long[] {4, 3, 2, 2});
        s.put("ct", new long[] {1, 3, 10, 10});
        assertEquals(8 * 6 * 4, ModelStats.macs(node("Gemm", List.of("a", "b"), "y"), s));
        assertEquals(8 * 6 * 4, ModelStats.macs(node("Gemm", List.of("at", "b"), "y", "transA"), s));
        assertEquals(8 * 6 * 4, ModelStats.macs(node("MatMulInteger", List.of("a", "b"), "y"), s));
        assertEquals(100 * 18, ModelStats.macs(node("Conv", List.of("x", "w"), "c"), s));
        assertEquals(100 * 18, ModelStats.macs(node("ConvInteger", List.of("x", "w"), "c"), s));
        assertEquals(100 * 18, ModelStats.macs(node("QLinearConv", List.of("x", "s", "z", "w"), "c"), s));
        assertEquals(100 * 12, ModelStats.macs(node("ConvTranspose", List.of("x", "wt"), "ct"), s));
        assertEquals(0, ModelStats.macs(node("Relu", List.of("y"), "a"), s));
        assertEquals(0, ModelStats.macs(node("MatMul", List.of("unknown", "b"), "y"), s));
    }

    private static ai.onnx.proto.OnnxMl.NodeProto node(String op, List<String> in, String out, String... flags) {
        ai.onnx.proto.OnnxMl.NodeProto.Builder b = ai.onnx.proto.OnnxMl.NodeProto.newBuilder().setOpType(op)
                .addAllInput(in).addOutput(out);
        for (String f : flags) {
            b.addAttribute(ai.onnx.proto.OnnxMl.AttributeProto.newBuilder().setName(f).setI(1)
                    .setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT));
        }
        return b.build();
    }

    @Test
    void parametersIncludeSubgraphsAndConstants() {
        ModelStats ifStats = ModelStats.of(SampleModels.ifModel(1), Map.of());
        assertEquals(4 * 8 + 8 + 1 + 1, ifStats.parameters()); // w, bias, zero, then.two inside the branch
        OnnxModel withConstant = OnnxBuilder.model("c").input("x", ElemType.FLOAT, 2).output("y", ElemType.FLOAT, 2)
                .node("Constant").out("k").attr("value", TensorData.ofFloats("", new long[] {2}, new float[2])).add()
                .node("Add").in("x", "k").out("y").add().build();
        assertEquals(2, ModelStats.of(withConstant, Map.of()).parameters());
        TensorData int4 = TensorData.ofInts("q", ElemType.INT4, new long[] {5}, new int[5]);
        OnnxModel packed = OnnxBuilder.model("p").opset(21).input("x", ElemType.FLOAT, 5)
                .output("y", ElemType.FLOAT, 5).initializer(int4).initializer("s", new long[0], 1f)
                .node("DequantizeLinear").in("q", "s").out("d").add().node("Add").in("x", "d").out("y").add().build();
        assertEquals(3 + 4, ModelStats.of(packed, Map.of()).parameterBytes()); // 5 nibbles -> 3 bytes, plus a float
    }

    @Test
    void interleavedLatencyProducesOrderedPercentiles() {
        OnnxModel m = SampleModels.mlp(1);
        List<Double> progress = new ArrayList<>();
        Latency l = EVAL.latency(m, alwaysClassZero(m), OrtRunner.syntheticFeeds(m), (f, msg) -> progress.add(f));
        assertEquals(1.0, progress.get(progress.size() - 1));
        assertEquals(10, l.runs());
        assertEquals(1, l.threads());
        for (var s : List.of(l.base(), l.variant())) {
            assertTrue(s.p50() > 0 && s.p50() <= s.p95() && s.p95() <= s.p99() && s.p99() <= s.max(), s.toString());
        }
    }

    @Test
    void latencyIsTimedInAlternatingBlocksOfTenRuns() {
        OnnxModel m = SampleModels.mlp(1);
        List<Double> progress = new ArrayList<>();
        Latency l = new Evaluator(Evaluator.Options.defaults().withLatencyRuns(0, 25))
                .latency(m, alwaysClassZero(m), OrtRunner.syntheticFeeds(m), (f, msg) -> progress.add(f));
        // one report per block pair: 10, 20, then the last 5 runs of each model
        assertEquals(List.of(0.4, 0.8, 1.0), progress);
        assertEquals(25, l.runs());
        assertTrue(l.base().p50() > 0 && l.variant().p50() > 0);
    }

    @Test
    void cosineAndClassHelpers() {
        assertEquals(1.0, Evaluator.cosine(new float[] {0, 0}, new float[] {0, 0}));
        assertEquals(0.0, Evaluator.cosine(new float[] {0, 0}, new float[] {1, 0}));
        assertEquals(-1.0, Evaluator.cosine(new float[] {1, 2}, new float[] {-1, -2}), 1e-12);
        assertEquals(2, Evaluator.predictedClass(new float[] {0.1f, 0.2f, 0.7f}, false));
        assertEquals(7, Evaluator.predictedClass(new float[] {7f}, true));
        assertEquals(1, Evaluator.predictedClass(new float[] {Float.NaN, 3f}, false));
    }

    @Test
    void aTimedRunThatWaitedForACoreIsToBeRepeated() throws InterruptedException {
        // the rule: more than a quarter of the run and more than 20 µs off the core
        assertTrue(Evaluator.waitedForCore(2_000_000, 200_000), "1.8 of 2 ms waiting");
        assertTrue(Evaluator.waitedForCore(200_000, 140_000), "60 of 200 µs waiting");
        assertFalse(Evaluator.waitedForCore(200_000, 160_000), "40 of 200 µs: a fifth");
        assertFalse(Evaluator.waitedForCore(40_000, 22_000), "18 µs: below the clocks' noise floor");
        assertFalse(Evaluator.waitedForCore(2_000_000, 0), "CPU time unknown");
        assertFalse(Evaluator.waitedForCore(2_000_000, -1), "CPU time unsupported");
        // its premise: the thread's CPU clock advances while it computes and not while it waits
        long c0 = ThreadCpu.nanos();
        long w0 = System.nanoTime();
        Thread.sleep(30);
        long sleptCpu = ThreadCpu.nanos() - c0;
        long sleptWall = System.nanoTime() - w0;
        assertTrue(Evaluator.waitedForCore(sleptWall, Math.max(1, sleptCpu)), sleptWall + " ns wall, " + sleptCpu + " cpu");
        c0 = ThreadCpu.nanos();
        long spin = System.nanoTime() + 20_000_000;
        double x = 0;
        while (System.nanoTime() < spin) {
            x += Math.sqrt(x + 1);
        }
        assertTrue(ThreadCpu.nanos() - c0 > 1_000_000 || x < 0, "20 ms of computing used "
                + (ThreadCpu.nanos() - c0) + " ns of CPU");
    }
}
