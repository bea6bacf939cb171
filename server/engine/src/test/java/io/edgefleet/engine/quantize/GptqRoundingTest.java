package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QTestSupport.meanRelativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.pipeline.PassContext;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

class GptqRoundingTest {
    static final int K = 64;

    /** Rows of correlated features: x = z A + 0.1 noise, z of width 12, so XᵀX is far from diagonal. */
    static float[] correlated(int rows, long seed) {
        Random r = new Random(seed);
        float[] a = OnnxBuilder.randomNormal(99, 12 * K, 1f); // the same mixing for every data set
        float[] x = new float[rows * K];
        double[] z = new double[12];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < 12; j++) {
                z[j] = r.nextGaussian();
            }
            for (int c = 0; c < K; c++) {
                double v = 0.1 * r.nextGaussian();
                for (int j = 0; j < 12; j++) {
                    v += z[j] * a[j * K + c];
                }
                x[i * K + c] = (float) v;
            }
        }
        return x;
    }

    /** {@code XᵀX} of the K-wide rows of x, the plain way: every product and sum in double, row-major [K, K]. */
    static double[] xtx(float[] x, int k) {
        double[] h = new double[k * k];
        for (int r = 0; r < x.length / k; r++) {
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    h[i * k + j] += (double) x[r * k + i] * x[r * k + j];
                }
            }
        }
        return h;
    }

    /** {@code Σ_r |x_ri x_rj|}, the scale of each entry's rounding error. */
    static double[] absXtx(float[] x, int k) {
        float[] a = x.clone();
        for (int i = 0; i < a.length; i++) {
            a[i] = Math.abs(a[i]);
        }
        return xtx(a, k);
    }

    /** ||X W - X Ŵ||² with Ŵ the dequantized int4 weights. */
    static double outputError(float[] x, int rows, float[] w, int n, int[] q, float[] scales, int block) {
        double e = 0;
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < n; c++) {
                double d = 0;
                for (int k = 0; k < K; k++) {
                    double wq = q[k * n + c] * (double) scales[(k / block) * n + c];
                    d += x[i * K + k] * (w[k * n + c] - wq);
                }
                e += d * d;
            }
        }
        return e;
    }

    @Test
    void gptqRoundingLeavesLessOutputErrorThanRoundingToNearest() {
        int n = 24;
        int rows = 600;
        float[] w = OnnxBuilder.randomNormal(5, K * n, 0.2f);
        float[] x = correlated(rows, 1);
        double[] h = xtx(x, K);
        GptqRounding.Rounded g = GptqRounding.round(w, K, n, h, 32, Int4WeightOnlyQuantizer.CLIP_STEPS, 0.01);
        assertEquals(K * n, g.q().length);
        assertEquals(2 * n, g.scales().length);
        for (int v : g.q()) {
            assertTrue(v >= -8 && v <= 7, "int4 range: " + v);
        }
        QuantParams nearest = QuantMath.mseBlockwise(w, new long[] {K, n}, 0, 32, QuantType.INT4,
                Int4WeightOnlyQuantizer.CLIP_STEPS);
        int[] qn = QuantMath.quantize(w, new long[] {K, n}, nearest);
        // measured on rows the Hessian did not see
        float[] held = correlated(rows, 2);
        double eg = outputError(held, rows, w, n, g.q(), g.scales(), 32);
        double en = outputError(held, rows, w, n, qn, nearest.scales(), 32);
        assertTrue(eg < 0.7 * en, "gptq " + eg + " vs nearest " + en);
    }

    @Test
    void upperCholeskyFactorOfTheInverse() {
        double[] h = xtx(correlated(200, 7), K);
        for (int i = 0; i < K; i++) {
            h[i * K + i] += 0.5;
        }
        DMatrixRMaj hm = new DMatrixRMaj(K, K, true, h);
        DMatrixRMaj u = GptqRounding.upperCholeskyOfInverse(hm);
        DMatrixRMaj utu = new DMatrixRMaj(K, K);
        CommonOps_DDRM.multTransA(u, u, utu);
        DMatrixRMaj product = new DMatrixRMaj(K, K);
        CommonOps_DDRM.mult(utu, hm, product); // (UᵀU) H = I
        for (int i = 0; i < K; i++) {
            assertTrue(u.get(i, i) > 0);
            for (int j = 0; j < K; j++) {
                assertEquals(i == j ? 1 : 0, product.get(i, j), 1e-6, "(" + i + "," + j + ")");
                if (j < i) {
                    assertEquals(0, u.get(i, j));
                }
            }
        }
        // not positive definite: refused, not factored
        DMatrixRMaj indefinite = CommonOps_DDRM.identity(3);
        indefinite.set(1, 1, -1);
        assertEquals(null, GptqRounding.upperCholeskyOfInverse(indefinite));
    }

    @Test
    void hessiansAreTheDoublePrecisionXtXOfEachActivationWithinFloat32Rounding() {
        OnnxModel f = QTestSupport.twoLayerMatMul(17); // x [N, 64] -> MatMul, Add, Relu -> r1 [N, 128] -> MatMul
        List<Map<String, TensorData>> feeds = new ArrayList<>();
        int rows = 0;
        for (int n : new int[] {700, 500, 333}) { // more than one block of rows, the last one partial
            feeds.add(Map.of("x", TensorData.ofFloats("x", new long[] {n, K}, correlated(n, 20 + n))));
            rows += n;
        }
        Map<String, double[]> h = GptqRounding.hessians(f, Map.of("x", K, "r1", 128), feeds);
        assertEquals(Set.of("x", "r1"), h.keySet());

        // the reference reads the same activations: the graph input, and r1 from its own session
        Map<String, float[]> activations = new LinkedHashMap<>();
        try (OrtRunner s = OrtRunner.open(OrtRunner.exposeValues(f, List.of("r1")))) {
            float[] x = new float[rows * K];
            float[] r1 = new float[rows * 128];
            int at = 0;
            for (Map<String, TensorData> feed : feeds) {
                float[] xf = feed.get("x").floats();
                System.arraycopy(xf, 0, x, at * K, xf.length);
                float[] rf = s.run(feed, List.of("r1")).get("r1").floats();
                System.arraycopy(rf, 0, r1, at * 128, rf.length);
                at += xf.length / K;
            }
            activations.put("x", x);
            activations.put("r1", r1);
        }
        // float32 products and sums: even one float accumulator over all rows errs by at most
        // γ = n·u / (1 - n·u) times Σ|x_ri x_rj|, n = rows + 1, u = 2⁻²⁴; Gram's double sum of blocks only lowers that
        double u = Math.ulp(1f) / 2;
        double gamma = (rows + 1) * u / (1 - (rows + 1) * u);
        for (Map.Entry<String, float[]> e : activations.entrySet()) {
            int k = e.getKey().equals("x") ? K : 128;
            double[] expected = xtx(e.getValue(), k);
            double[] scale = absXtx(e.getValue(), k);
            double[] actual = h.get(e.getKey());
            assertEquals(k * k, actual.length);
            for (int i = 0; i < k * k; i++) {
                assertEquals(expected[i], actual[i], gamma * scale[i], e.getKey() + " (" + i / k + "," + i % k + ")");
            }
        }
        // an activation whose size is not a multiple of the width it is said to have
        assertThrows(IllegalStateException.class, () -> GptqRounding.hessians(f, Map.of("x", 48),
                List.of(Map.of("x", TensorData.ofFloats("x", new long[] {1, K}, new float[K])))));
    }

    static Dataset correlatedData(int rows, long seed) {
        return Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {rows, K}, correlated(rows, seed))), null,
                null);
    }

    @Test
    void recipeUsesGptqWithCalibrationDataAndTheModelRunsInOnnxRuntime() throws Exception {
        OnnxModel f = QTestSupport.twoLayerMatMul(17);
        Dataset calib = correlatedData(512, 3);
        Map<String, TensorData> held = correlatedData(256, 4).feeds(f, 0, 256);
        PassContext ctx = PassContext.standalone(f, calib, Map.of("blockSize", "32"));
        OnnxModel gptq = RecipeRegistry.get("int4-weight-only").passes().get(0).apply(f, ctx);
        assertTrue(ctx.notes().stream().anyMatch(s -> s.contains("GPTQ")), ctx.notes().toString());
        assertTrue(ctx.decisions().stream().filter(d -> d.action().equals("int4"))
                .allMatch(d -> d.reason().contains("GPTQ")), ctx.decisions().toString());
        assertEquals("int4-weight-only-b32-gptq", gptq.metadata().get("edgefleet.quantization"));
        OnnxModel nearest = RecipeRegistry.get("int4-weight-only").passes().get(0).apply(f,
                PassContext.standalone(f, calib, Map.of("blockSize", "32", "rounding", "nearest")));
        double eg = meanRelativeError(f, gptq, held);
        double en = meanRelativeError(f, nearest, held);
        assertTrue(eg < en, "gptq " + eg + " vs nearest " + en);

        BadInputException bad = assertThrows(BadInputException.class, () -> RecipeRegistry.get("int4-weight-only")
                .passes().get(0).apply(f, PassContext.standalone(f, calib, Map.of("rounding", "stochastic"))));
        assertTrue(bad.getMessage().contains("rounding"));
        BadInputException noData = assertThrows(BadInputException.class, () -> RecipeRegistry.get("int4-weight-only")
                .passes().get(0).apply(f, PassContext.standalone(f, null, Map.of("rounding", "gptq"))));
        assertTrue(noData.getMessage().contains("needs calibration data"), noData.getMessage());
        // auto without data rounds to nearest
        PassContext none = PassContext.standalone(f, null, Map.of());
        RecipeRegistry.get("int4-weight-only").passes().get(0).apply(f, none);
        assertTrue(none.decisions().stream().filter(d -> d.action().equals("int4"))
                .allMatch(d -> d.reason().contains("nearest")), none.decisions().toString());
        assertTrue(List.of(gptq.opHistogram().keySet().toArray()).contains("DequantizeLinear"));
    }
}
