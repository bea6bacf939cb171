package io.edgefleet.engine.recalib;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * How an overall unstructured sparsity target is split over the layers being pruned. Uniform gives every layer the
 * target. Outlier-weighted follows OWL (Yin et al. 2024, "Outlier Weighed Layerwise Sparsity"): a weight whose
 * activation-scaled magnitude {@code |W_ij| · ||X_j||} is far above its layer's mean carries a disproportionate share
 * of the layer's output, so layers holding many such outliers are pruned less and layers without them more. Whatever
 * the ratios, the zero counts are integers that add up to exactly {@code round(target · total weights)}: the overall
 * sparsity stays the advertised one, weighted by weight count. Relative gives chosen layers (by name) a ratio relative to
 * the others, e.g. attention value/output projections lighter than feed-forward ones, from a sensitivity study; the
 * exact-total correction then shifts all ratios by one constant. Measured runs that sensitivity study itself: each
 * layer is pruned alone at a few ratios and the damage to the model's outputs is measured, then the zero counts that
 * minimise the summed damage are chosen ({@link #leastDamage}).
 */
public final class SparsityAllocation {
    /** How ratios differ between layers. */
    public enum Mode {
        /** Every layer at the target. */
        UNIFORM,
        /** Fewer zeros where activation-weighted outliers are dense (OWL). */
        OUTLIER_WEIGHTED,
        /** Offsets from the target chosen per layer name, then shifted together to the exact target. */
        RELATIVE,
        /** Each layer pruned alone at a few ratios, the damage to the model's outputs measured and minimised. */
        MEASURED
    }

    /**
     * @param mode how ratios differ
     * @param spread largest deviation of a layer's ratio from the target before the exact-total correction (OWL's
     *     lambda); 0 for uniform
     * @param outlierFactor a weight is an outlier when its score exceeds this many times its layer's mean score (OWL's
     *     M)
     * @param probes measured: how many ratios each layer is pruned at alone ({@link #probeRatios}); {@code target ±
     *     spread} bounds every layer's ratio
     * @param samples measured: calibration samples the damage is measured on
     */
    public record Spec(Mode mode, double spread, double outlierFactor,
            java.util.function.ToDoubleFunction<String> offsets, int probes, int samples) {
        public static final Spec UNIFORM = new Spec(Mode.UNIFORM, 0, 0, null);
        /** Measured: no layer is probed, or allocated, below this ratio or above one minus it. */
        static final double MIN_RATIO = 0.05;

        public Spec(Mode mode, double spread, double outlierFactor, java.util.function.ToDoubleFunction<String> offsets) {
            this(mode, spread, outlierFactor, offsets, 0, 0);
        }

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
            if (mode == Mode.MEASURED && !(spread > 0 && spread < 0.5 && probes >= 2 && samples >= 1)) {
                throw new IllegalArgumentException("measured allocation needs spread in (0, 0.5), at least 2 probe "
                        + "ratios and 1 sample, got " + spread + ", " + probes + " and " + samples);
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

        /** Measured with three probes on 32 samples. */
        public static Spec measured(double spread) {
            return measured(spread, 3, 32);
        }

        public static Spec measured(double spread, int probes, int samples) {
            return new Spec(Mode.MEASURED, spread, 0, null, probes, samples);
        }

        /**
         * Measured: the band every layer's ratio stays in, {@code target ± spread} cut to [0.05, 0.95].
         *
         * @throws IllegalArgumentException when the target itself is outside that range
         */
        public double[] band(double target) {
            double lo = Math.max(MIN_RATIO, target - spread);
            double hi = Math.min(1 - MIN_RATIO, target + spread);
            if (!(lo < target && target < hi)) {
                throw new IllegalArgumentException("a measured allocation needs a target inside (" + MIN_RATIO + ", "
                        + (1 - MIN_RATIO) + "), got " + target);
            }
            return new double[] {lo, hi};
        }

        /**
         * Measured: the ratios each layer is pruned at alone, evenly spaced over the middle two thirds of the
         * {@link #band} (0.3/0.5/0.7 for 0.5 ± 0.3); the ends of the band are reached by extrapolation, which keeps
         * the costliest probes (least sparse: the exact refit on the support grows with its cube) away.
         */
        public double[] probeRatios(double target) {
            double[] band = band(target);
            double lo = band[0] + (band[1] - band[0]) / 6;
            double hi = band[1] - (band[1] - band[0]) / 6;
            double[] r = new double[probes];
            for (int k = 0; k < probes; k++) {
                r[k] = lo + (hi - lo) * k / (probes - 1);
            }
            return r;
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

    /**
     * Measured allocation: each layer's damage, known at the probe ratios, interpolated as a power law between them
     * ({@link #powerLaw}) onto a grid of steps of at most 0.01 over {@code [lo, hi]}, then {@link #leastDamage}.
     */
    public static long[] measured(double target, long[] sizes, double[] probes, double[][] damage, double lo,
            double hi) {
        int steps = (int) Math.ceil((hi - lo) / 0.01 - 1e-9);
        double[] grid = new double[steps + 1];
        for (int k = 0; k <= steps; k++) {
            grid[k] = lo + (hi - lo) * k / steps;
        }
        double[][] onGrid = new double[sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            onGrid[i] = powerLaw(probes, damage[i], grid);
        }
        return leastDamage(target, sizes, grid, onGrid);
    }

    /**
     * Damage at the ratios {@code at}, from damage measured at the increasing {@code probes}: a power law {@code c ·
     * ratio^p} through each pair of neighbouring points, the outer pairs' laws continued beyond them. Pruning damage
     * grows about like a power of the ratio (the measured curves of a transformer's layers rise about 20 times from
     * 0.2 to 0.5), which a straight line between points would overestimate in the middle and extrapolate badly. The
     * measured values are made non-decreasing first; where one of a pair is not positive, the line between them.
     */
    public static double[] powerLaw(double[] probes, double[] damage, double[] at) {
        int m = probes.length;
        double[] d = new double[m];
        for (int p = 0; p < m; p++) {
            d[p] = Math.max(damage[p], p > 0 ? d[p - 1] : 0);
        }
        double[] out = new double[at.length];
        for (int j = 0; j < at.length; j++) {
            double r = at[j];
            if (m == 1) {
                out[j] = d[0];
                continue;
            }
            int seg = 0;
            while (seg < m - 2 && r > probes[seg + 1]) {
                seg++;
            }
            double r0 = probes[seg];
            double r1 = probes[seg + 1];
            double d0 = d[seg];
            double d1 = d[seg + 1];
            if (d0 > 0 && d1 > 0) {
                double power = Math.log(d1 / d0) / Math.log(r1 / r0);
                out[j] = d0 * Math.pow(r / r0, power);
            } else {
                out[j] = Math.max(0, d0 + (d1 - d0) * (r - r0) / (r1 - r0));
            }
        }
        return out;
    }

    /**
     * Zero counts that minimise the summed damage of the layers, each layer's damage interpolated linearly between its
     * measured points, with exactly {@code round(target · Σ sizes)} zeros in all and every layer between its first and
     * last probe ratio. Damage is taken as non-decreasing in the ratio (measurement noise can make it dip) and
     * replaced by its lower convex hull; then every layer starts at its lowest ratio and the remaining zeros go to the
     * hull segments in order of damage per zero, the cheapest first, the last one in part. On convex curves that is
     * the exact optimum (the Lagrangian condition: every layer ends where its marginal damage meets one common price).
     *
     * @param ratios probe ratios, increasing, the same for every layer
     * @param damage per layer, the damage measured at each probe ratio
     * @throws IllegalArgumentException when the total cannot be placed within the layers' ratio bounds
     */
    public static long[] leastDamage(double target, long[] sizes, double[] ratios, double[][] damage) {
        int n = sizes.length;
        long want = Math.round(target * Arrays.stream(sizes).sum());
        long[] k = new long[n];
        long have = 0;
        long room = 0;
        record Segment(int layer, long zeros, double slope) {
        }
        List<Segment> segments = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (damage[i].length != ratios.length) {
                throw new IllegalArgumentException("layer " + i + ": " + damage[i].length + " damages for "
                        + ratios.length + " ratios");
            }
            long[] z = new long[ratios.length];
            double[] d = new double[ratios.length];
            for (int p = 0; p < ratios.length; p++) {
                z[p] = Math.min(sizes[i] - 1, Math.max(0, Math.round(ratios[p] * sizes[i])));
                d[p] = Math.max(damage[i][p], p > 0 ? d[p - 1] : 0);
            }
            k[i] = z[0];
            have += z[0];
            room += z[ratios.length - 1] - z[0];
            int[] hull = lowerHull(z, d);
            for (int h = 1; h < hull.length; h++) {
                long dz = z[hull[h]] - z[hull[h - 1]];
                if (dz > 0) {
                    segments.add(new Segment(i, dz, (d[hull[h]] - d[hull[h - 1]]) / dz));
                }
            }
        }
        if (want < have || want > have + room) {
            throw new IllegalArgumentException("cannot place " + want + " zeros: the layers' ratio bounds allow "
                    + have + " to " + (have + room));
        }
        // Stable sort: within a layer the hull's slopes strictly increase, so its segments are taken in order.
        segments.sort(Comparator.comparingDouble(Segment::slope));
        for (Segment s : segments) {
            if (have == want) {
                break;
            }
            long take = Math.min(s.zeros(), want - have);
            k[s.layer()] += take;
            have += take;
        }
        return k;
    }

    /** Indices of the lower convex hull of the points (x increasing), first and last always included. */
    static int[] lowerHull(long[] x, double[] y) {
        int[] h = new int[x.length];
        int m = 0;
        for (int p = 0; p < x.length; p++) {
            if (m > 0 && x[h[m - 1]] == x[p]) {
                continue; // equal counts (a tiny layer): the lower ratio's point stands for both
            }
            // Drop the last point while it lies on or above the line from the one before it to p.
            while (m >= 2 && (y[h[m - 1]] - y[h[m - 2]]) * (x[p] - x[h[m - 2]])
                    >= (y[p] - y[h[m - 2]]) * (double) (x[h[m - 1]] - x[h[m - 2]])) {
                m--;
            }
            h[m++] = p;
        }
        return Arrays.copyOf(h, m);
    }
}
