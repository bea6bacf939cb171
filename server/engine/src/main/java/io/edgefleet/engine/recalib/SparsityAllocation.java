package io.edgefleet.engine.recalib;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * How an overall unstructured sparsity target is split over the layers being pruned. Uniform gives every layer the
 * target. Outlier-weighted follows OWL (Yin et al. 2024, "Outlier Weighed Layerwise Sparsity"): a weight whose
 * activation-scaled magnitude {@code |W_ij| · ||X_j||} is far above its layer's mean carries a disproportionate share
 * of the layer's output, so layers holding many such outliers are pruned less and layers without them more. Whatever
 * the ratios, the zero counts are integers that add up to exactly {@code round(target · total weights)}: the overall
 * sparsity stays the advertised one, weighted by weight count. Relative gives chosen layers (by name) a ratio relative to
 * the others, e.g. attention value/output projections lighter than feed-forward ones, from a sensitivity study; the
 * exact-total correction then shifts all ratios by one constant.
 */
public final class SparsityAllocation {
    /** How ratios differ between layers. */
    public enum Mode {
        /** Every layer at the target. */
        UNIFORM,
        /** Fewer zeros where activation-weighted outliers are dense (OWL). */
        OUTLIER_WEIGHTED,
        /** Offsets from the target chosen per layer name, then shifted together to the exact target. */
        RELATIVE
    }

    /**
     * @param mode how ratios differ
     * @param spread largest deviation of a layer's ratio from the target before the exact-total correction (OWL's
     *     lambda); 0 for uniform
     * @param outlierFactor a weight is an outlier when its score exceeds this many times its layer's mean score (OWL's
     *     M)
     */
    public record Spec(Mode mode, double spread, double outlierFactor,
            java.util.function.ToDoubleFunction<String> offsets) {
        public static final Spec UNIFORM = new Spec(Mode.UNIFORM, 0, 0, null);

        public Spec {
            if (mode == null) {
                throw new IllegalArgumentException("allocation mode is required");
            }
            if (mode == Mode.RELATIVE && offsets == null) {
                throw new IllegalArgumentException("relative allocation needs per-layer offsets");
            }
            if (mode == Mode.OUTLIER_WEIGHTED && !(spread > 0 && spread < 0.5 && outlierFactor > 1)) {
                throw new IllegalArgumentException("outlier-weighted allocation needs spread in (0, 0.5) and an outlier "
                        + "factor > 1, got " + spread + " and " + outlierFactor);
            }
        }

        /** OWL with the paper's outlier threshold of five times the mean score. */
        public static Spec outlierWeighted(double spread) {
            return new Spec(Mode.OUTLIER_WEIGHTED, spread, 5, null);
        }

        /**
         * @param offsets layer name to its ratio's offset from the target (before the common shift that restores the
         *     exact overall target); every result must stay within (-0.5, 0.5)
         */
        public static Spec relative(java.util.function.ToDoubleFunction<String> offsets) {
            return new Spec(Mode.RELATIVE, 0, 0, offsets);
        }
    }

    private SparsityAllocation() {
    }

    /**
     * Fraction of a layer's weights whose score {@code |W_ij| · norm_j} exceeds {@code factor} times the layer's mean
     * score.
     *
     * @param w out x in weights, row-major
     * @param inputNorms the L2 norm of each input feature over the calibration rows
     */
    public static double outlierFraction(float[] w, int outs, int ins, double[] inputNorms, double factor) {
        if (inputNorms.length != ins || w.length != (long) outs * ins) {
            throw new IllegalArgumentException("weights " + outs + "x" + ins + " with " + w.length + " values and "
                    + inputNorms.length + " input norms do not match");
        }
        double mean = 0;
        for (int r = 0; r < outs; r++) {
            for (int c = 0; c < ins; c++) {
                mean += Math.abs(w[r * ins + c]) * inputNorms[c];
            }
        }
        mean /= w.length;
        long above = 0;
        for (int r = 0; r < outs; r++) {
            for (int c = 0; c < ins; c++) {
                if (Math.abs(w[r * ins + c]) * inputNorms[c] > factor * mean) {
                    above++;
                }
            }
        }
        return (double) above / w.length;
    }

    /**
     * Per-layer ratios for OWL: linear in the outlier fraction, the layer with most outliers at {@code target -
     * spread}, the one with fewest at {@code target + spread}, then shifted together so the weight-count-weighted mean
     * is the target (and kept inside [0, 1)).
     */
    public static double[] outlierWeighted(double target, long[] sizes, double[] outlierFractions, double spread) {
        int n = sizes.length;
        double lo = Arrays.stream(outlierFractions).min().orElse(0);
        double hi = Arrays.stream(outlierFractions).max().orElse(0);
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = hi > lo ? target + spread * (1 - 2 * (outlierFractions[i] - lo) / (hi - lo)) : target;
        }
        return matchMean(target, sizes, s);
    }

    /** Ratios {@code target + offset(layer)}, shifted together so the weighted mean is the target. */
    public static double[] relative(double target, long[] sizes, String[] layers,
            java.util.function.ToDoubleFunction<String> offsets) {
        double[] s = new double[layers.length];
        for (int i = 0; i < layers.length; i++) {
            double d = offsets.applyAsDouble(layers[i]);
            if (!(Math.abs(d) < 0.5)) {
                throw new IllegalArgumentException("offset " + d + " for layer " + layers[i] + " is outside (-0.5, 0.5)");
            }
            s[i] = Math.min(0.999, Math.max(0, target + d));
        }
        return matchMean(target, sizes, s);
    }

    /** Shifts all ratios by one constant (repeated while clamping bites) so the weighted mean equals the target. */
    static double[] matchMean(double target, long[] sizes, double[] ratios) {
        double[] s = ratios.clone();
        double total = Arrays.stream(sizes).sum();
        for (int iter = 0; iter < 50; iter++) {
            double mean = 0;
            for (int i = 0; i < s.length; i++) {
                mean += s[i] * sizes[i] / total;
            }
            double shift = target - mean;
            if (Math.abs(shift) < 1e-12) {
                break;
            }
            for (int i = 0; i < s.length; i++) {
                s[i] = Math.min(0.999, Math.max(0, s[i] + shift));
            }
        }
        return s;
    }

    /**
     * Integer zero counts per layer near {@code ratios[i] · sizes[i]} whose sum is exactly {@code round(target ·
     * Σ sizes)}: floors first, then the missing zeros go to the layers with the largest remainders (or are taken from
     * the smallest when the ratios overshoot).
     */
    public static long[] zeroCounts(double target, long[] sizes, double[] ratios) {
        int n = sizes.length;
        long total = Arrays.stream(sizes).sum();
        long want = Math.round(target * total);
        long[] k = new long[n];
        double[] frac = new double[n];
        long have = 0;
        for (int i = 0; i < n; i++) {
            double exact = Math.min(sizes[i] - 1, Math.max(0, ratios[i] * sizes[i]));
            k[i] = (long) Math.floor(exact);
            frac[i] = exact - k[i];
            have += k[i];
        }
        Integer[] byRemainder = IntStream.range(0, n).boxed().sorted(Comparator.comparingDouble(i -> -frac[i]))
                .toArray(Integer[]::new);
        while (have != want) {
            boolean moved = false;
            for (int j = 0; j < n && have != want; j++) {
                int i = have < want ? byRemainder[j] : byRemainder[n - 1 - j];
                if (have < want && k[i] < sizes[i] - 1) {
                    k[i]++;
                    have++;
                    moved = true;
                } else if (have > want && k[i] > 0) {
                    k[i]--;
                    have--;
                    moved = true;
                }
            }
            if (!moved) {
                throw new IllegalStateException("cannot place " + want + " zeros in layers of sizes "
                        + Arrays.toString(sizes));
            }
        }
        return k;
    }
}
