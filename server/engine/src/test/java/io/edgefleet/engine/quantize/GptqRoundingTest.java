package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QTestSupport.meanRelativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.pipeline.PassContext;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
        double[] h = new double[K * K];
        GptqRounding.accumulate(h, x, K);
        GptqRounding.mirror(h, K);
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
        double[] h = new double[K * K];
        GptqRounding.accumulate(h, correlated(200, 7), K);
        GptqRounding.mirror(h, K);
        for (int i = 0; i < K; i++) {
            h[i * K + i] += 0.5;
        }
        org.ejml.data.DMatrixRMaj hm = new org.ejml.data.DMatrixRMaj(K, K, true, h);
        org.ejml.data.DMatrixRMaj u = GptqRounding.upperCholeskyOfInverse(hm);
        org.ejml.data.DMatrixRMaj utu = new org.ejml.data.DMatrixRMaj(K, K);
        org.ejml.dense.row.CommonOps_DDRM.multTransA(u, u, utu);
        org.ejml.data.DMatrixRMaj product = new org.ejml.data.DMatrixRMaj(K, K);
        org.ejml.dense.row.CommonOps_DDRM.mult(utu, hm, product); // (UᵀU) H = I
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
        org.ejml.data.DMatrixRMaj indefinite = org.ejml.dense.row.CommonOps_DDRM.identity(3);
        indefinite.set(1, 1, -1);
        assertEquals(null, GptqRounding.upperCholeskyOfInverse(indefinite));
    }

    @Test
    void hessianOfAnActivationIsXtX() {
        float[] x = {1, 2, 3, 4, 5, 6}; // two rows of width 3
        double[] h = new double[9];
        GptqRounding.accumulate(h, x, 3);
        GptqRounding.mirror(h, 3);
        assertEquals(1 + 16, h[0], 1e-12);
        assertEquals(2 + 20, h[1], 1e-12);
        assertEquals(2 + 20, h[3], 1e-12);
        assertEquals(9 + 36, h[8], 1e-12);
        assertThrows(IllegalStateException.class, () -> GptqRounding.accumulate(new double[16], x, 4));
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
