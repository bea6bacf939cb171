package io.edgefleet.engine.recalib;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Map;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

/** Gram accumulation and ridge solves, im2col against ONNX Runtime, masked refits, axis slicing. */
class RegressionToolsTest {

    @Test
    void ridgeSolveRecoversKnownWeightsAndTheResidualFormulaMatchesDirectComputation() {
        Random r = new Random(1);
        int f = 5;
        int t = 3;
        double[][] truth = new double[f][t];
        for (double[] row : truth) {
            for (int j = 0; j < t; j++) {
                row[j] = r.nextGaussian();
            }
        }
        Gram gram = new Gram(f, t);
        double yy = 0;
        double[][] xs = new double[3000][];
        double[][] ys = new double[3000][];
        for (int n = 0; n < 3000; n++) {
            double[] x = new double[f];
            for (int i = 0; i < f; i++) {
                x[i] = r.nextGaussian();
            }
            double[] y = new double[t];
            for (int j = 0; j < t; j++) {
                for (int i = 0; i < f; i++) {
                    y[j] += x[i] * truth[i][j];
                }
                y[j] += 0.01 * r.nextGaussian();
                yy += y[j] * y[j];
            }
            xs[n] = x;
            ys[n] = y;
            gram.add(x, y);
        }
        assertEquals(3000, gram.rows());
        DMatrixRMaj w = gram.solve(1e-6);
        for (int i = 0; i < f; i++) {
            for (int j = 0; j < t; j++) {
                assertEquals(truth[i][j], w.get(i, j), 1e-2);
            }
        }
        double direct = 0;
        for (int n = 0; n < 3000; n++) {
            for (int j = 0; j < t; j++) {
                double p = 0;
                for (int i = 0; i < f; i++) {
                    p += xs[n][i] * w.get(i, j);
                }
                direct += (ys[n][j] - p) * (ys[n][j] - p);
            }
        }
        assertEquals(direct, LeastSquaresReconstruction.residual(gram.xtx(), gram.xty(), yy, w), 1e-6 * yy);
    }

    @Test
    void singularSystemsStillSolve() {
        DMatrixRMaj a = new DMatrixRMaj(3, 3); // all zero: an input that never fires
        DMatrixRMaj b = new DMatrixRMaj(3, 1);
        DMatrixRMaj x = Gram.solve(a, b, 0);
        assertTrue(Gram.allFinite(x));
    }

    @Test
    void im2colTimesWeightsEqualsOnnxRuntimeConvolution() {
        // Padding, stride and dilation together, on a non-square input.
        OnnxModel m = OnnxBuilder.model("conv").opset(17)
                .input("x", ElemType.FLOAT, 2, 3, 7, 9)
                .output("y", ElemType.FLOAT, 2, 4, 4, 4)
                .randomInitializer("w", new long[] {4, 3, 3, 2}, 0.5f, 1)
                .randomInitializer("b", new long[] {4}, 0.5f, 2)
                .node("Conv").name("conv").in("x", "w", "b").out("y")
                        .ints("pads", 2, 1, 1, 0).ints("strides", 2, 2).ints("dilations", 1, 2).add()
                .build();
        float[] x = OnnxBuilder.randomNormal(3, 2 * 3 * 7 * 9, 1f);
        float[] y;
        try (OrtRunner r = OrtRunner.open(m)) {
            TensorData out = r.run(Map.of("x", TensorData.ofFloats("x", new long[] {2, 3, 7, 9}, x))).get("y");
            y = out.floats();
            long[] shape = out.shape();
            LinearLayer layer = LinearLayer.findAll(m).get(0);
            Im2Col cols = new Im2Col(layer, 3, 7, 9);
            assertEquals(shape[2], cols.outHeight());
            assertEquals(shape[3], cols.outWidth());
            float[] w = layer.weightMatrix(m.edit());
            float[] bias = layer.biasVector(m.edit());
            float[] patch = new float[cols.features()];
            int positions = cols.positions();
            for (int s = 0; s < 2; s++) {
                for (int p = 0; p < positions; p++) {
                    cols.patch(x, s * 3 * 7 * 9, p, patch, 0);
                    for (int o = 0; o < 4; o++) {
                        double v = bias[o];
                        for (int i = 0; i < patch.length; i++) {
                            v += w[o * patch.length + i] * patch[i];
                        }
                        assertEquals(y[(s * 4 + o) * positions + p], v, 1e-4);
                    }
                }
            }
        }
    }

    @Test
    void maskedRefitKeepsZerosAndFitsTheSupport() {
        Random r = new Random(2);
        int f = 4;
        // y = 2 x0 - x2 + 0.5: a row whose support is {0, 2} fits it exactly.
        Gram gram = new Gram(f + 1, 1);
        for (int n = 0; n < 500; n++) {
            double[] x = new double[f + 1];
            for (int i = 0; i < f; i++) {
                x[i] = r.nextGaussian();
            }
            x[f] = 1;
            gram.add(x, new double[] {2 * x[0] - x[2] + 0.5});
        }
        float[] w = {1f, 0f, 3f, 0f};
        float[] bias = new float[1];
        float[] out = MaskedRefit.solve(gram.xtx(), gram.xty(), w, 1, 1e-9, bias);
        assertEquals(0f, out[1]);
        assertEquals(0f, out[3]);
        assertEquals(2.0, out[0], 1e-4);
        assertEquals(-1.0, out[2], 1e-4);
        assertEquals(0.5, bias[0], 1e-4);
    }

    @Test
    void axisSliceTakesIndicesAlongAnyAxisAndRefusesBadOnes() {
        TensorData t = TensorData.ofFloats("t", new long[] {2, 3, 2}, new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        assertArrayEquals(new float[] {0, 1, 4, 5, 6, 7, 10, 11}, AxisSlice.take(t, 1, new int[] {0, 2}).floats());
        assertArrayEquals(new long[] {2, 2, 2}, AxisSlice.take(t, 1, new int[] {0, 2}).shape());
        assertArrayEquals(new float[] {1, 3, 5, 7, 9, 11}, AxisSlice.take(t, 2, new int[] {1}).floats());
        TensorData longs = TensorData.ofInt64("l", new long[] {3}, new long[] {7, 8, 9});
        assertArrayEquals(new long[] {9, 7}, AxisSlice.take(longs, 0, new int[] {2, 0}).longs());
        assertThrows(IllegalArgumentException.class, () -> AxisSlice.take(t, 3, new int[] {0}));
        assertThrows(IllegalArgumentException.class, () -> AxisSlice.take(t, 1, new int[] {3}));
    }

    @Test
    void inverseCholeskyFactorReproducesTheDampedInverse() {
        Random r = new Random(4);
        int n = 6;
        DMatrixRMaj x = new DMatrixRMaj(40, n);
        for (int i = 0; i < x.getNumElements(); i++) {
            x.data[i] = r.nextGaussian();
        }
        DMatrixRMaj h = new DMatrixRMaj(n, n);
        CommonOps_DDRM.multTransA(x, x, h);
        DMatrixRMaj u = HessianPruner.inverseCholeskyUpper(h, 0.1);
        DMatrixRMaj utu = new DMatrixRMaj(n, n);
        CommonOps_DDRM.multTransA(u, u, utu);
        DMatrixRMaj damped = h.copy();
        for (int i = 0; i < n; i++) {
            damped.add(i, i, 0.1);
        }
        DMatrixRMaj product = new DMatrixRMaj(n, n);
        CommonOps_DDRM.mult(damped, utu, product);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(i == j ? 1 : 0, product.get(i, j), 1e-8);
            }
            for (int j = 0; j < i; j++) {
                assertEquals(0, u.get(i, j), 0, "upper triangular");
            }
        }
    }
}
