package io.edgefleet.engine.recalib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static io.edgefleet.engine.prune.PruneFixtures.relativeError;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Map;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

class MaskSwapSearchTest {

    /** Rows of a shared factor plus per-feature noise, so inputs are strongly correlated. */
    private static DMatrixRMaj correlated(int n, int f, long seed) {
        Random r = new Random(seed);
        DMatrixRMaj x = new DMatrixRMaj(n, f);
        for (int i = 0; i < n; i++) {
            double c1 = r.nextGaussian();
            double c2 = r.nextGaussian();
            for (int j = 0; j < f; j++) {
                x.set(i, j, c1 * (1 + 0.1 * j) + c2 * Math.sin(j) + 0.3 * r.nextGaussian());
            }
        }
        return x;
    }

    /** Centred products: {@code h = XᵀX}, {@code b = XᵀY} after removing column means, as the pruner uses them. */
    private static DMatrixRMaj[] normalEquations(DMatrixRMaj x, DMatrixRMaj y) {
        DMatrixRMaj xc = centred(x);
        DMatrixRMaj yc = centred(y);
        DMatrixRMaj h = new DMatrixRMaj(x.numCols, x.numCols);
        CommonOps_DDRM.multTransA(xc, xc, h);
        for (int i = 0; i < h.numCols; i++) {
            h.add(i, i, 1e-9 * h.get(i, i));
        }
        DMatrixRMaj b = new DMatrixRMaj(x.numCols, y.numCols);
        CommonOps_DDRM.multTransA(xc, yc, b);
        return new DMatrixRMaj[] {h, b};
    }

    private static DMatrixRMaj centred(DMatrixRMaj m) {
        DMatrixRMaj c = m.copy();
        for (int j = 0; j < m.numCols; j++) {
            double mean = 0;
            for (int i = 0; i < m.numRows; i++) {
                mean += m.get(i, j);
            }
            mean /= m.numRows;
            for (int i = 0; i < m.numRows; i++) {
                c.add(i, j, -mean);
            }
        }
        return c;
    }

    /** {@code -b_Sᵀ H_SS⁻¹ b_S} for row r of b on the support {@code keep}, by a fresh solve. */
    private static double objective(DMatrixRMaj h, DMatrixRMaj b, int r, boolean[] keep) {
        int k = 0;
        for (boolean v : keep) {
            k += v ? 1 : 0;
        }
        int[] s = new int[k];
        for (int i = 0, a = 0; i < keep.length; i++) {
            if (keep[i]) {
                s[a++] = i;
            }
        }
        DMatrixRMaj hs = new DMatrixRMaj(k, k);
        DMatrixRMaj bs = new DMatrixRMaj(k, 1);
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                hs.set(i, j, h.get(s[i], s[j]));
            }
            bs.set(i, 0, b.get(s[i], r));
        }
        DMatrixRMaj w = new DMatrixRMaj(k, 1);
        CommonOps_DDRM.solve(hs, bs, w);
        return -CommonOps_DDRM.dot(bs, w);
    }

    private static boolean[] kept(float[] w, int r, int f) {
        boolean[] k = new boolean[f];
        for (int i = 0; i < f; i++) {
            k[i] = w[r * f + i] != 0f;
        }
        return k;
    }

    @Test
    void swapsNeverRaiseTheErrorKeepEachRowsZeroCountAndTrackTheExactObjective() {
        int f = 40;
        int outs = 12;
        DMatrixRMaj x = correlated(600, f, 1);
        Random r = new Random(2);
        DMatrixRMaj wTrue = new DMatrixRMaj(f, outs);
        for (int i = 0; i < wTrue.data.length; i++) {
            wTrue.data[i] = r.nextGaussian();
        }
        DMatrixRMaj y = new DMatrixRMaj(x.numRows, outs);
        CommonOps_DDRM.mult(x, wTrue, y);
        DMatrixRMaj[] ne = normalEquations(x, y);
        float[] start = new float[outs * f];
        for (int o = 0; o < outs; o++) {
            for (int i = 0; i < f; i++) {
                // Row o keeps a different count: 10 + o inputs, a random subset.
                start[o * f + i] = 0f;
            }
            int keep = 10 + o;
            for (int placed = 0; placed < keep; ) {
                int i = r.nextInt(f);
                if (start[o * f + i] == 0f) {
                    start[o * f + i] = 1f;
                    placed++;
                }
            }
        }
        MaskSwapSearch.Outcome out = MaskSwapSearch.search(ne[0], ne[1], 0, start, outs, 1000);
        double before = 0;
        double after = 0;
        for (int o = 0; o < outs; o++) {
            boolean[] was = kept(start, o, f);
            boolean[] now = kept(out.weights(), o, f);
            int a = 0;
            int bCount = 0;
            for (int i = 0; i < f; i++) {
                a += was[i] ? 1 : 0;
                bCount += now[i] ? 1 : 0;
            }
            assertEquals(a, bCount, "row " + o + " keeps its count");
            double eBefore = objective(ne[0], ne[1], o, was);
            double eAfter = objective(ne[0], ne[1], o, now);
            assertTrue(eAfter <= eBefore + 1e-9 * Math.abs(eBefore), "row " + o + ": " + eAfter + " > " + eBefore);
            before += eBefore;
            after += eAfter;
        }
        assertEquals(before, out.before(), 1e-9 * Math.abs(before));
        assertEquals(after, out.after(), 1e-9 * Math.abs(after));
        assertTrue(out.swaps() > 0 && after < before, "random masks leave swaps to make: " + out);
    }

    @Test
    void onSixInputsKeepingThreeTheResultIsTheOptimumOrNoSwapImprovesIt() {
        int f = 6;
        int outs = 30;
        DMatrixRMaj x = correlated(200, f, 5);
        Random r = new Random(6);
        DMatrixRMaj y = new DMatrixRMaj(x.numRows, outs);
        for (int i = 0; i < y.data.length; i++) {
            y.data[i] = r.nextGaussian();
        }
        DMatrixRMaj wTrue = new DMatrixRMaj(f, outs);
        for (int i = 0; i < wTrue.data.length; i++) {
            wTrue.data[i] = r.nextGaussian();
        }
        CommonOps_DDRM.multAdd(x, wTrue, y);
        DMatrixRMaj[] ne = normalEquations(x, y);
        float[] start = new float[outs * f];
        for (int o = 0; o < outs; o++) {
            for (int i = 0; i < 3; i++) {
                start[o * f + (o + i) % f] = 1f;
            }
        }
        MaskSwapSearch.Outcome out = MaskSwapSearch.search(ne[0], ne[1], 0, start, outs, 100);
        int optimal = 0;
        for (int o = 0; o < outs; o++) {
            boolean[] now = kept(out.weights(), o, f);
            double found = objective(ne[0], ne[1], o, now);
            double best = Double.POSITIVE_INFINITY;
            for (int set = 0; set < 1 << f; set++) {
                if (Integer.bitCount(set) == 3) {
                    boolean[] k = new boolean[f];
                    for (int i = 0; i < f; i++) {
                        k[i] = (set >> i & 1) != 0;
                    }
                    best = Math.min(best, objective(ne[0], ne[1], o, k));
                }
            }
            optimal += found <= best + 1e-9 * Math.abs(best) ? 1 : 0;
            for (int in = 0; in < f; in++) {
                for (int outI = 0; outI < f; outI++) {
                    if (!now[in] && now[outI]) {
                        boolean[] k = now.clone();
                        k[in] = true;
                        k[outI] = false;
                        assertTrue(objective(ne[0], ne[1], o, k) >= found - 1e-9 * Math.abs(found),
                                "row " + o + ": swapping " + in + " for " + outI + " still improves");
                    }
                }
            }
        }
        assertTrue(optimal >= outs * 4 / 5, "rows at the optimum of all 20 supports: " + optimal + " of " + outs);
    }

    /**
     * x0..x2 are independent, x3 is nearly their sum, x4 and x5 are noise; the float layer computes x0 + x1 + x2. Its
     * refit weights on x3..x5 are zero, so SparseGPT prunes those first for free and, keeping one weight, is left with
     * one of x0..x2 (two thirds of the output lost), where keeping x3 alone loses almost nothing.
     */
    private static Dataset nearSum(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 6];
        for (int i = 0; i < n; i++) {
            double a = r.nextGaussian();
            double b = r.nextGaussian();
            double c = r.nextGaussian();
            double[] row = {a, b, c, a + b + c + 0.05 * r.nextGaussian(), r.nextGaussian(), r.nextGaussian()};
            for (int j = 0; j < 6; j++) {
                x[i * 6 + j] = (float) row[j];
            }
        }
        return Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {n, 6}, x)), null, null);
    }

    @Test
    void swapsRepairAMaskThatFoolsSparseGptAndTheWrittenModelRuns() {
        OnnxModel ref = OnnxBuilder.model("near_sum").opset(17)
                .input("x", ElemType.FLOAT, "N", 6)
                .output("y", ElemType.FLOAT, "N", 1)
                .initializer("w", new long[] {6, 1}, 1f, 1f, 1f, 0f, 0f, 0f)
                .initializer("b", new long[] {1}, 0.2f)
                .node("MatMul").name("mm").in("x", "w").out("h").add()
                .node("Add").name("add").in("h", "b").out("y").add()
                .build();
        Dataset calib = nearSum(400, 1);
        Dataset check = nearSum(200, 2);
        HessianPruner.Options o = HessianPruner.Options.unstructured(5 / 6.0);
        HessianPruner.Result greedy = HessianPruner.prune(ref, ref, calib, o, null);
        HessianPruner.Result swapped = HessianPruner.prune(ref, ref, calib, o.withMaskSwaps(4), null);
        HessianPruner.LayerReport g = greedy.layers().get(0);
        HessianPruner.LayerReport s = swapped.layers().get(0);
        assertEquals(g.sparsity(), s.sparsity(), "the same zero count");
        assertTrue(g.error() > 0.3, "SparseGPT keeps one of the three summands: " + g);
        assertTrue(s.error() < 0.01, "the search keeps the near-sum: " + s);
        assertTrue(s.note().contains("mask swaps 1 "), s.note());
        float[] expected = outputs(ref, check);
        double greedyHeld = relativeError(outputs(greedy.model(), check), expected);
        double swappedHeld = relativeError(outputs(swapped.model(), check), expected);
        assertTrue(swappedHeld < 0.05 * greedyHeld && swappedHeld < 0.01, "held-out error in ONNX Runtime "
                + swappedHeld + " vs " + greedyHeld);
    }
}
