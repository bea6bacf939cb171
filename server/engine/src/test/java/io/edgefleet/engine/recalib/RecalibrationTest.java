package io.edgefleet.engine.recalib;

import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static io.edgefleet.engine.prune.PruneFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.prune.ChannelAnalysis;
import io.edgefleet.engine.prune.ChannelGroup;
import io.edgefleet.engine.prune.ChannelPruner;
import io.edgefleet.engine.prune.MagnitudePruner;
import io.edgefleet.engine.prune.PruneFixtures;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Least-squares reconstruction, bias correction and BatchNorm re-estimation, checked through ONNX Runtime. */
class RecalibrationTest {

    private static OnnxModel withNoise(OnnxModel m, String weight, float std, long seed) {
        Graph g = m.edit();
        TensorData w = g.initializer(weight);
        float[] v = w.floats().clone();
        float[] noise = OnnxBuilder.randomNormal(seed, v.length, std);
        for (int i = 0; i < v.length; i++) {
            v[i] += noise[i];
        }
        g.setInitializer(TensorData.ofFloats(weight, w.shape(), v));
        return g.toModel();
    }

    @Test
    void leastSquaresUndoesDamageToALayerAndReportsTheErrorItRemoved() {
        OnnxModel ref = SampleModels.mlp(1);
        OnnxModel damaged = withNoise(ref, "fc1.weight", 0.3f, 9);
        Dataset data = PruneFixtures.randomData(ref, 300, 2);
        LeastSquaresReconstruction.Result r = LeastSquaresReconstruction.reconstruct(ref, damaged, ChannelMap.IDENTITY,
                data, LeastSquaresReconstruction.Options.defaults().withRidge(1e-9), null);
        LeastSquaresReconstruction.LayerFit fc1 = r.layers().get(0);
        assertEquals("fc1", fc1.layer());
        assertTrue(fc1.rewritten());
        assertTrue(fc1.errorBefore() > 0.05, "noise of 0.3 on He-scale weights is large: " + fc1.errorBefore());
        assertTrue(fc1.errorAfter() < 1e-6, "a linear layer fed the same input is fit exactly: " + fc1.errorAfter());
        assertTrue(relativeError(outputs(r.model(), data), outputs(ref, data)) < 1e-6);
    }

    @Test
    void aModelThatAlreadyMatchesIsLeftByteForByteAlone() {
        OnnxModel ref = SampleModels.cnn(2);
        Dataset data = PruneFixtures.randomData(ref, 20, 4);
        LeastSquaresReconstruction.Result r = LeastSquaresReconstruction.reconstruct(ref, ref, ChannelMap.IDENTITY,
                data, LeastSquaresReconstruction.Options.defaults(), null);
        assertEquals(3, r.layers().size());
        for (LeastSquaresReconstruction.LayerFit f : r.layers()) {
            assertFalse(f.rewritten(), f.toString());
        }
        assertEquals(ref.sha256(), r.model().sha256());
    }

    @Test
    void structurallyPrunedResidualBlockGetsMostOfItsAccuracyBack() {
        OnnxModel ref = SampleModels.cnn(4);
        ChannelAnalysis a = ChannelAnalysis.analyze(ref);
        ChannelGroup res = a.prunableGroups().get(0);
        ChannelPruner.Result pr = ChannelPruner.apply(a, Map.of(res.id(), new int[] {0, 2, 3, 6, 7}));
        Dataset data = PruneFixtures.randomData(ref, 64, 3);
        float[] expected = outputs(ref, data);
        double before = relativeError(outputs(pr.model(), data), expected);
        LeastSquaresReconstruction.Result r = LeastSquaresReconstruction.reconstruct(ref, pr.model(), pr.channelMap(),
                data, LeastSquaresReconstruction.Options.defaults(), null);
        double after = relativeError(outputs(r.model(), data), expected);
        assertTrue(after < before / 4, "error " + before + " -> " + after);
        LeastSquaresReconstruction.LayerFit conv2 = r.layers().stream().filter(f -> f.layer().equals("conv2"))
                .findFirst().orElseThrow();
        // conv2 feeds BN then the residual Add, so its target is its own float output on the kept channels.
        assertEquals(5, conv2.outputs());
        assertEquals(5 * 9, conv2.features());
        assertTrue(conv2.rewritten());
    }

    @Test
    void residualTargetIsUsedWhenALayerFeedsTheAddDirectly() {
        // The digits-resnet pattern: conv -> Add(skip) with BatchNorm folded away.
        OnnxModel ref = OnnxBuilder.model("res").opset(17)
                .input("x", io.edgefleet.engine.onnx.ElemType.FLOAT, "N", 2, 5, 5)
                .output("y", io.edgefleet.engine.onnx.ElemType.FLOAT, "N", 3)
                .heInitializer("a.w", new long[] {6, 2, 3, 3}, 18, 1)
                .heInitializer("b.w", new long[] {6, 6, 3, 3}, 54, 2)
                .heInitializer("fc.w", new long[] {3, 6}, 6, 3)
                .node("Conv").name("a").in("x", "a.w").out("a.out").ints("pads", 1, 1, 1, 1).add()
                .node("Relu").name("ra").in("a.out").out("ra.out").add()
                .node("Conv").name("b").in("ra.out", "b.w").out("b.out").ints("pads", 1, 1, 1, 1).add()
                .node("Add").name("add").in("ra.out", "b.out").out("s").add()
                .node("ReduceMean").name("gap").in("s").out("g").ints("axes", 2, 3).attr("keepdims", 0).add()
                .node("Gemm").name("fc").in("g", "fc.w").out("y").attr("transB", 1).add()
                .build();
        ChannelAnalysis an = ChannelAnalysis.analyze(ref);
        ChannelPruner.Result pr = ChannelPruner.apply(an, Map.of(an.prunableGroups().get(0).id(), new int[] {0, 1, 4}));
        Dataset data = PruneFixtures.randomData(ref, 40, 5);
        LeastSquaresReconstruction.Result r = LeastSquaresReconstruction.reconstruct(ref, pr.model(), pr.channelMap(),
                data, LeastSquaresReconstruction.Options.defaults(), null);
        LeastSquaresReconstruction.LayerFit b = r.layers().stream().filter(f -> f.layer().equals("b")).findFirst()
                .orElseThrow();
        assertTrue(b.note().startsWith("residual target"), b.note());
        assertTrue(b.errorAfter() <= b.errorBefore());
        assertTrue(relativeError(outputs(r.model(), data), outputs(ref, data))
                < relativeError(outputs(pr.model(), data), outputs(ref, data)));
    }

    @Test
    void refitOfASparseModelKeepsItsZeros() {
        OnnxModel ref = SampleModels.mlp(5);
        MagnitudePruner.Result sparse = MagnitudePruner.prune(ref,
                MagnitudePruner.Options.unstructured(0.6, MagnitudePruner.Scope.PER_LAYER), null);
        Dataset data = PruneFixtures.randomData(ref, 200, 6);
        LeastSquaresReconstruction.Result r = LeastSquaresReconstruction.reconstruct(ref, sparse.model(),
                ChannelMap.IDENTITY, data, LeastSquaresReconstruction.Options.defaults(), null);
        for (String w : List.of("fc1.weight", "fc2.weight")) {
            float[] before = sparse.model().edit().initializer(w).floats();
            float[] after = r.model().edit().initializer(w).floats();
            for (int i = 0; i < before.length; i++) {
                assertEquals(before[i] == 0f, after[i] == 0f, w + "[" + i + "] changed its zero pattern");
            }
        }
        float[] expected = outputs(ref, data);
        assertTrue(relativeError(outputs(r.model(), data), expected)
                < relativeError(outputs(sparse.model(), data), expected) / 2);
    }

    @Test
    void biasCorrectionRestoresTheMeanOfAShiftedLayer() {
        OnnxModel ref = SampleModels.mlp(6);
        Graph g = ref.edit();
        TensorData b = g.initializer("fc1.bias");
        float[] shifted = b.floats().clone();
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] += 0.25f * (i % 3);
        }
        g.setInitializer(TensorData.ofFloats("fc1.bias", b.shape(), shifted));
        Dataset data = PruneFixtures.randomData(ref, 50, 8);
        BiasCorrection.Result r = BiasCorrection.correct(ref, g.toModel(), ChannelMap.IDENTITY, data, 50);
        assertArrayEquals(b.floats(), r.model().edit().initializer("fc1.bias").floats(), 1e-4f);
        assertEquals(0.5, r.layers().get(0).maxShift(), 1e-4);
        assertEquals(0, r.layers().get(1).maxShift(), 1e-4, "fc2 sees the original input again");
    }

    @Test
    void batchNormStatisticsBecomeThoseOfTheInputsItActuallyGets() {
        OnnxModel m = SampleModels.cnn(7);
        Dataset data = PruneFixtures.randomData(m, 30, 9);
        BatchNormRecalibration.Result r = BatchNormRecalibration.recalibrate(m, data, 30);
        assertEquals(List.of("bn1", "bn2"), r.recalibrated());
        // bn1's input does not depend on bn1: compare with statistics computed here from captured activations.
        Map<String, float[][]> cap = OrtRunner.captureActivations(m, data, List.of("conv1.out"), 30);
        double[] sum = new double[8];
        double[] sq = new double[8];
        for (float[] sample : cap.get("conv1.out")) {
            for (int i = 0; i < sample.length; i++) {
                sum[i / 64] += sample[i];
                sq[i / 64] += sample[i] * (double) sample[i];
            }
        }
        float[] mean = r.model().edit().initializer("bn1.mean").floats();
        float[] var = r.model().edit().initializer("bn1.var").floats();
        for (int c = 0; c < 8; c++) {
            double mu = sum[c] / (30 * 64);
            assertEquals(mu, mean[c], 1e-4);
            assertEquals(sq[c] / (30 * 64) - mu * mu, var[c], 1e-4);
        }
    }
}
