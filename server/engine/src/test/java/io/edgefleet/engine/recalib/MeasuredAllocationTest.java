package io.edgefleet.engine.recalib;

import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static io.edgefleet.engine.prune.PruneFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MeasuredAllocationTest {
    private static final int TOKENS = 6;

    /**
     * x[N,6,16] -> MatMul(16x24)+b -> Relu -> MatMul(24x20)+b -> Relu -> MatMul(20x8)+b. The first layer is dense
     * Gaussian on 16 independent inputs: every weight matters and no other input can stand in for a pruned one. The
     * middle one is nearly sparse already: four weights in five are 50 times smaller than the rest, so even 80% of it
     * goes at almost no cost.
     */
    static OnnxModel model() {
        float[] w2 = OnnxBuilder.randomNormal(3, 24 * 20, (float) Math.sqrt(2.0 / 24));
        Random r = new Random(4);
        for (int i = 0; i < w2.length; i++) {
            if (r.nextInt(5) != 0) {
                w2[i] *= 0.02f;
            }
        }
        return SparsityAllocationTest.tokenMlp("sensitive", null, w2);
    }

    /**
     * Uniform inputs and a "mask" array (not a model input) whose trailing tokens are padding; padding inputs are
     * {@code padScale} times larger, so anything that counts them shows it.
     */
    static Dataset data(int n, long seed, float padScale) {
        Random r = new Random(seed);
        float[] x = OnnxBuilder.randomUniform(seed, n * TOKENS * 16, 0f, 1f);
        long[] mask = new long[n * TOKENS];
        for (int s = 0; s < n; s++) {
            int real = 2 + r.nextInt(TOKENS - 1);
            for (int t = 0; t < TOKENS; t++) {
                mask[s * TOKENS + t] = t < real ? 1 : 0;
                for (int i = 0; t >= real && i < 16; i++) {
                    x[(s * TOKENS + t) * 16 + i] *= padScale;
                }
            }
        }
        Map<String, TensorData> arrays = new LinkedHashMap<>();
        arrays.put("x", TensorData.ofFloats("x", new long[] {n, TOKENS, 16}, x));
        arrays.put("mask", TensorData.ofInt64("mask", new long[] {n, TOKENS}, mask));
        return Dataset.of(arrays, null, null);
    }

    private static long zeros(Graph g, String initializer) {
        long z = 0;
        for (float v : g.initializer(initializer).toFloatArray()) {
            z += v == 0f ? 1 : 0;
        }
        return z;
    }

    @Test
    void theLeastSensitiveLayerTakesMostZerosTheTotalIsExactAndTheModelRoundTrips() {
        OnnxModel ref = model();
        Dataset calib = data(96, 1, 1);
        HessianPruner.Options base = HessianPruner.Options.unstructured(0.5).withTokenMask("mask");
        HessianPruner.Result r = HessianPruner.prune(ref, ref, calib,
                base.withAllocation(SparsityAllocation.Spec.measured(0.3, 3, 24)), null);
        Graph g = r.model().edit();
        long total = 16 * 24 + 24 * 20 + 20 * 8;
        assertEquals(total / 2, zeros(g, "w1") + zeros(g, "w2") + zeros(g, "w3"), "exactly half, in the written model");
        assertEquals(0.5, r.sparsity(), 1e-12);
        Map<String, Double> ratio = new LinkedHashMap<>();
        r.layers().forEach(l -> ratio.put(l.layer(), l.sparsity()));
        // The nearly sparse middle layer goes to the top of the band (0.5 + 0.3); the dense ones give up fewer.
        // The first layer (measured damage about 1000 times the middle one's at 0.5) stays at the bottom of the band
        // 0.5 ± 0.3; the nearly sparse middle layer takes the most zeros.
        assertEquals(0.2, ratio.get("mm1"), 0.01, ratio.toString());
        assertTrue(ratio.get("mm2") > 0.7 && ratio.get("mm2") > ratio.get("mm3"), ratio.toString());
        for (HessianPruner.LayerReport l : r.layers()) {
            assertTrue(l.sparsity() >= 0.2 - 1e-9 && l.sparsity() <= 0.8 + 1e-9, l.toString());
            assertTrue(l.note().contains(String.format(java.util.Locale.ROOT, "measured allocation %.3f",
                    l.sparsity())), l.note());
        }
        assertTrue(r.allocation().startsWith("measured allocation: 3 layers each pruned alone at ratios "
                + "0.30/0.50/0.70 (9 model runs on 24 calibration samples, 3 captures), ratios kept within "
                + "0.20-0.80"), r.allocation());

        // Written, read back and run by ONNX Runtime; closer to the float model than a uniform 50% on unseen data.
        OnnxModel read = OnnxModel.read(r.model().toBytes());
        Dataset check = data(40, 9, 1);
        float[] expected = outputs(ref, check);
        HessianPruner.Result uniform = HessianPruner.prune(ref, ref, calib, base, null);
        assertTrue(uniform.allocation().isEmpty());
        double measuredError = relativeError(outputs(read, check), expected);
        double uniformError = relativeError(outputs(uniform.model(), check), expected);
        assertTrue(measuredError < 0.5 * uniformError, "measured " + measuredError + " vs uniform " + uniformError);
    }

    @Test
    void damageLeavesPaddingTokensOutWhenGivenTheMask() {
        OnnxModel ref = model();
        Dataset d = data(20, 3, 40);
        Graph g = ref.edit();
        float[] w3 = g.initializer("w3").toFloatArray();
        for (int i = 0; i < w3.length; i += 3) {
            w3[i] = 0;
        }
        g.setInitializer(TensorData.ofFloats("w3", new long[] {20, 8}, w3));
        OnnxModel variant = g.toModel();
        float[] y = outputs(variant, d);
        float[] yRef = outputs(ref, d);
        long[] mask = d.input("mask").longs();
        double err = 0;
        double sq = 0;
        for (int row = 0; row < mask.length; row++) {
            for (int i = 0; mask[row] != 0 && i < 8; i++) {
                double e = y[row * 8 + i] - yRef[row * 8 + i];
                err += e * e;
                sq += (double) yRef[row * 8 + i] * yRef[row * 8 + i];
            }
        }
        double masked = new OutputDamage(ref, d, "mask").of(variant);
        double all = new OutputDamage(ref, d, null).of(variant);
        assertEquals(err / sq, masked, 1e-9 * masked);
        assertEquals(relativeError(y, yRef), all, 1e-9 * all);
        assertEquals(0, new OutputDamage(ref, d, "mask").of(ref), 0);
    }

    /** Brute force over every split of the zeros of three small layers: the allocation finds the least damage. */
    @Test
    void leastDamageIsTheOptimumOfConvexCurvesWithTheExactTotal() {
        long[] sizes = {10, 20, 30};
        double[] ratios = {0.2, 0.5, 0.8};
        Random r = new Random(5);
        for (int trial = 0; trial < 50; trial++) {
            double[][] damage = new double[3][3];
            for (int i = 0; i < 3; i++) {
                double slope = r.nextDouble();
                double level = r.nextDouble();
                for (int p = 0; p < 3; p++) {
                    level += slope * 0.3 * sizes[i];
                    slope += r.nextDouble(); // increasing slopes per weight: convex
                    damage[i][p] = level;
                }
            }
            double target = 0.3 + 0.4 * r.nextDouble();
            long[] k = SparsityAllocation.leastDamage(target, sizes, ratios, damage);
            long want = Math.round(target * 60);
            assertEquals(want, Arrays.stream(k).sum());
            double best = Double.POSITIVE_INFINITY;
            for (long a = 2; a <= 8; a++) {
                for (long b = 4; b <= 16; b++) {
                    long c = want - a - b;
                    if (c >= 6 && c <= 24) {
                        best = Math.min(best, total(sizes, ratios, damage, new long[] {a, b, c}));
                    }
                }
            }
            assertEquals(best, total(sizes, ratios, damage, k), 1e-9 * best, "trial " + trial);
        }
    }

    private static double total(long[] sizes, double[] ratios, double[][] damage, long[] k) {
        double s = 0;
        for (int i = 0; i < sizes.length; i++) {
            double[] z = new double[ratios.length];
            for (int p = 0; p < ratios.length; p++) {
                z[p] = Math.round(ratios[p] * sizes[i]);
            }
            int p = 1;
            while (p < z.length - 1 && k[i] > z[p]) {
                p++;
            }
            s += damage[i][p - 1] + (k[i] - z[p - 1]) / (z[p] - z[p - 1]) * (damage[i][p] - damage[i][p - 1]);
        }
        return s;
    }

    @Test
    void noisyCurvesAreMadeMonotoneAndConvexAndImpossibleTotalsRefused() {
        long[] sizes = {100, 100};
        double[] ratios = {0.2, 0.5, 0.8};
        // Layer 0 dips at 0.5 (noise) and is cheap to 0.8; layer 1 is expensive past 0.2.
        long[] k = SparsityAllocation.leastDamage(0.5, sizes, ratios, new double[][] {{0.1, 0.05, 0.2}, {0, 1, 2}});
        assertEquals(80, k[0]);
        assertEquals(20, k[1]);
        // Layer 0 is not convex: its first step looks dearer than layer 1's steady price, but the two together are
        // cheaper per zero. The hull sees that: layer 0 goes to the top (damage 1.0), not layer 1 (1.2).
        k = SparsityAllocation.leastDamage(0.5, sizes, ratios, new double[][] {{0, 0.9, 1}, {0, 0.6, 1.2}});
        assertEquals(80, k[0], Arrays.toString(k));
        assertEquals(20, k[1], Arrays.toString(k));
        assertThrows(IllegalArgumentException.class, () -> SparsityAllocation.leastDamage(0.9, sizes, ratios,
                new double[][] {{0, 1, 2}, {0, 1, 2}}));
        assertThrows(IllegalArgumentException.class, () -> SparsityAllocation.Spec.measured(0.6));
        assertThrows(IllegalArgumentException.class, () -> HessianPruner.Options.nm(2, 4)
                .withAllocation(SparsityAllocation.Spec.measured(0.3)));
        // Near the edge the band is cut at 0.05; the probes stay inside its middle two thirds.
        SparsityAllocation.Spec spec = SparsityAllocation.Spec.measured(0.3, 5, 8);
        assertEquals(0.05, spec.band(0.2)[0], 1e-12);
        assertEquals(0.5, spec.band(0.2)[1], 1e-12);
        double[] probes = spec.probeRatios(0.2);
        assertEquals(0.125, probes[0], 1e-12);
        assertEquals(0.425, probes[4], 1e-12);
        assertThrows(IllegalArgumentException.class, () -> spec.band(0.97));
    }

    @Test
    void powerLawInterpolationIsExactForAPowerLawAndNeverFalls() {
        double[] probes = {0.3, 0.5, 0.7};
        double[] at = {0.2, 0.25, 0.4, 0.6, 0.8};
        double[] cubic = new double[3];
        for (int p = 0; p < 3; p++) {
            cubic[p] = 0.02 * Math.pow(probes[p], 3);
        }
        double[] d = SparsityAllocation.powerLaw(probes, cubic, at);
        for (int j = 0; j < at.length; j++) {
            assertEquals(0.02 * Math.pow(at[j], 3), d[j], 1e-12 * d[j], "ratio " + at[j]);
        }
        // Noise: a dip at 0.5 is lifted to the value before it; a zero start falls back to a straight line.
        double[] noisy = SparsityAllocation.powerLaw(probes, new double[] {0.1, 0.05, 0.3}, at);
        for (int j = 1; j < at.length; j++) {
            assertTrue(noisy[j] >= noisy[j - 1], Arrays.toString(noisy));
        }
        assertEquals(0.05, SparsityAllocation.powerLaw(probes, new double[] {0, 0.1, 0.2}, new double[] {0.4})[0],
                1e-12);
    }
}
