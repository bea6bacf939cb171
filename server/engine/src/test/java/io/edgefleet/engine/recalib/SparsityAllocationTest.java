package io.edgefleet.engine.recalib;

import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static io.edgefleet.engine.prune.PruneFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SparsityAllocationTest {
    private static final int TOKENS = 6;
    private static final String[] LAYERS = {"mm1", "mm2", "mm3"};

    /**
     * x[N,6,16] -> MatMul(16x24)+b -> Relu -> MatMul(24x20)+b -> Relu -> MatMul(20x8)+b. The first layer's inputs 0-2
     * carry weights 25 times larger than the rest: with uniform inputs that layer is full of OWL outliers, the others
     * (plain Gaussian weights) have almost none.
     */
    static OnnxModel tokenMlp() {
        float[] w1 = OnnxBuilder.randomNormal(1, 16 * 24, 0.2f);
        for (int in = 0; in < 3; in++) {
            for (int out = 0; out < 24; out++) {
                w1[in * 24 + out] *= 25; // MatMul weights are [in, out]
            }
        }
        return tokenMlp("tokens", w1, null);
    }

    /**
     * The three-layer token MLP of these tests and {@link MeasuredAllocationTest}: x[N,6,16] -> MatMul(16x24)+b -> Relu
     * -> MatMul(24x20)+b -> Relu -> MatMul(20x8)+b, with the given first or middle weights ([in, out]; null: He
     * initialized) and fixed-seed biases and last layer.
     */
    static OnnxModel tokenMlp(String name, float[] w1, float[] w2) {
        OnnxBuilder b = OnnxBuilder.model(name).opset(17)
                .input("x", ElemType.FLOAT, "N", TOKENS, 16)
                .output("y", ElemType.FLOAT, "N", TOKENS, 8);
        if (w1 != null) {
            b.initializer("w1", new long[] {16, 24}, w1);
        } else {
            b.heInitializer("w1", new long[] {16, 24}, 16, 1);
        }
        if (w2 != null) {
            b.initializer("w2", new long[] {24, 20}, w2);
        } else {
            b.heInitializer("w2", new long[] {24, 20}, 24, 3);
        }
        return b.randomInitializer("b1", new long[] {24}, 0.05f, 2)
                .randomInitializer("b2", new long[] {20}, 0.05f, 4)
                .heInitializer("w3", new long[] {20, 8}, 20, 5)
                .randomInitializer("b3", new long[] {8}, 0.05f, 6)
                .node("MatMul").name("mm1").in("x", "w1").out("h1").add()
                .node("Add").name("add1").in("h1", "b1").out("a1").add()
                .node("Relu").name("relu1").in("a1").out("r1").add()
                .node("MatMul").name("mm2").in("r1", "w2").out("h2").add()
                .node("Add").name("add2").in("h2", "b2").out("a2").add()
                .node("Relu").name("relu2").in("a2").out("r2").add()
                .node("MatMul").name("mm3").in("r2", "w3").out("h3").add()
                .node("Add").name("add3").in("h3", "b3").out("y").add()
                .build();
    }

    /** Uniform inputs plus a "mask" array (not a model input) whose trailing tokens are padding. */
    static Dataset data(int n, long seed) {
        Random r = new Random(seed);
        float[] x = OnnxBuilder.randomUniform(seed, n * TOKENS * 16, 0f, 1f);
        long[] mask = new long[n * TOKENS];
        for (int s = 0; s < n; s++) {
            int real = 2 + r.nextInt(TOKENS - 1);
            for (int t = 0; t < real; t++) {
                mask[s * TOKENS + t] = 1;
            }
        }
        Map<String, TensorData> arrays = new LinkedHashMap<>();
        arrays.put("x", TensorData.ofFloats("x", new long[] {n, TOKENS, 16}, x));
        arrays.put("mask", TensorData.ofInt64("mask", new long[] {n, TOKENS}, mask));
        return Dataset.of(arrays, null, null);
    }

    private static long zeros(Graph g, String initializer) {
        return Arrays.stream(box(g.initializer(initializer).toFloatArray())).filter(v -> v == 0f).count();
    }

    private static Float[] box(float[] a) {
        Float[] b = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }

    @Test
    void outlierWeightedKeepsTheOverallSparsityExactAndPrunesTheOutlierLayerLess() {
        OnnxModel ref = tokenMlp();
        Dataset calib = data(64, 1);
        long total = 16 * 24 + 24 * 20 + 20 * 8;
        HessianPruner.Options owl = HessianPruner.Options.unstructured(0.5)
                .withAllocation(SparsityAllocation.Spec.outlierWeighted(0.1));
        HessianPruner.Result r = HessianPruner.prune(ref, ref, calib, owl, null);
        Graph g = r.model().edit();
        long z = zeros(g, "w1") + zeros(g, "w2") + zeros(g, "w3");
        assertEquals(total / 2, z, "exactly half of all linear weights, counted in the written model");
        assertEquals(0.5, r.sparsity(), 1e-12);
        Map<String, Double> ratio = new LinkedHashMap<>();
        r.layers().forEach(l -> ratio.put(l.layer(), l.sparsity()));
        assertEquals(List.of(LAYERS), List.copyOf(ratio.keySet()));
        // mm1 holds the outliers: the bottom of the band (0.5 - 0.1, then one shift restores the mean).
        assertTrue(ratio.get("mm1") < 0.45, "outlier layer pruned less: " + ratio);
        assertTrue(ratio.get("mm2") > 0.5 && ratio.get("mm3") > 0.5, "outlier-free layers pruned more: " + ratio);
        double hi = ratio.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        assertEquals(0.2, hi - ratio.get("mm1"), 0.01, "spread 0.1 each side of the band: " + ratio);

        HessianPruner.Result uniform = HessianPruner.prune(ref, ref, calib, HessianPruner.Options.unstructured(0.5),
                null);
        for (HessianPruner.LayerReport l : uniform.layers()) {
            assertEquals(0.5, l.sparsity(), 1e-12, l.layer());
        }
        // Both run through ONNX Runtime and stay close to the float model on held-out data.
        Dataset check = data(40, 9);
        float[] expected = outputs(ref, check);
        assertTrue(relativeError(outputs(r.model(), check), expected) < 0.2);
        assertTrue(relativeError(outputs(uniform.model(), check), expected) < 0.2);
    }

    @Test
    void relativeOffsetsKeepTheirDifferencesAndTheExactOverallTarget() {
        OnnxModel ref = tokenMlp();
        Dataset calib = data(64, 2);
        HessianPruner.Options o = HessianPruner.Options.unstructured(0.5).withAllocation(SparsityAllocation.Spec
                .relative(name -> name.equals("mm1") ? -0.2 : name.equals("mm2") ? 0.1 : 0));
        HessianPruner.Result r = HessianPruner.prune(ref, ref, calib, o, null);
        Graph g = r.model().edit();
        assertEquals((16 * 24 + 24 * 20 + 20 * 8) / 2, zeros(g, "w1") + zeros(g, "w2") + zeros(g, "w3"));
        double s1 = r.layers().get(0).sparsity();
        double s2 = r.layers().get(1).sparsity();
        double s3 = r.layers().get(2).sparsity();
        // Offsets -0.2 / +0.1 / 0 give a weighted mean of 0.5 - 0.2*384/1024 + 0.1*480/1024 = 0.4719; all shift up by
        // the same 0.0281 (up to rounding to whole weights).
        assertEquals(0.3, s2 - s1, 0.005);
        assertEquals(0.1, s2 - s3, 0.005);
        assertEquals(0.5 - 0.2 + 0.028125, s1, 0.005);
        assertTrue(relativeError(outputs(r.model(), data(40, 9)), outputs(ref, data(40, 9))) < 0.3);
        assertThrows(IllegalArgumentException.class, () -> HessianPruner.prune(ref, ref, calib, o.withAllocation(
                SparsityAllocation.Spec.relative(name -> 0.7)), null));
    }

    @Test
    void zeroCountsAddUpExactlyWhateverTheRatios() {
        long[] sizes = {147_456, 589_824, 589_824, 7, 1};
        double[] ratios = {0.31, 0.52, 0.5049, 0.9, 0.0};
        long[] k = SparsityAllocation.zeroCounts(0.5, sizes, SparsityAllocation.matchMean(0.5, sizes, ratios));
        assertEquals(Math.round(0.5 * Arrays.stream(sizes).sum()), Arrays.stream(k).sum());
        for (int i = 0; i < k.length; i++) {
            assertTrue(k[i] >= 0 && k[i] < sizes[i], "layer " + i + ": " + k[i] + " of " + sizes[i]);
        }
        assertTrue(k[0] < 0.5 * sizes[0] && k[1] > 0.5 * sizes[1], Arrays.toString(k));
    }

    @Test
    void tokenMaskLeavesPaddingRowsOut() {
        OnnxModel ref = tokenMlp();
        Dataset calib = data(32, 3);
        long real = Arrays.stream(calib.input("mask").longs()).sum();
        HessianPruner.Result masked = HessianPruner.prune(ref, ref, calib,
                HessianPruner.Options.unstructured(0.5).withTokenMask("mask"), null);
        HessianPruner.Result all = HessianPruner.prune(ref, ref, calib, HessianPruner.Options.unstructured(0.5), null);
        for (int i = 0; i < LAYERS.length; i++) {
            assertEquals(real, masked.layers().get(i).rows(), "only real tokens: " + masked.layers().get(i));
            assertEquals(32L * TOKENS, all.layers().get(i).rows());
        }
        assertTrue(real < 32L * TOKENS);
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> SparsityAllocation.Spec.outlierWeighted(0.6));
        assertThrows(IllegalArgumentException.class, () -> HessianPruner.Options.nm(2, 4)
                .withAllocation(SparsityAllocation.Spec.outlierWeighted(0.1)));
        OnnxModel ref = tokenMlp();
        HessianPruner.Options o = HessianPruner.Options.unstructured(0.5).withTokenMask("absent");
        assertThrows(RuntimeException.class, () -> HessianPruner.prune(ref, ref, data(8, 1), o, null));
    }
}
