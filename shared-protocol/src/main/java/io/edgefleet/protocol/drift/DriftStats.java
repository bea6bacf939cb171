package io.edgefleet.protocol.drift;

/**
 * Population Stability Index and Jensen–Shannon distance between a reference distribution and an
 * observed one over the same bins.
 */
public final class DriftStats {
    /**
     * Proportion used in place of an empty bin when computing PSI, so that {@code ln(a/e)} stays finite.
     * 1e-4 is the value Evidently uses; a smaller one would make a single value in a bin the reference
     * never saw (say an overflow) dominate the score.
     */
    public static final double PSI_EPSILON = 1e-4;

    private DriftStats() {
    }

    /**
     * {@code PSI = Σ (a_i − e_i) · ln(a_i / e_i)} with {@code e} the reference and {@code a} the
     * observed proportions, each clamped below at {@link #PSI_EPSILON}. 0 for identical distributions,
     * always ≥ 0, symmetric in its two arguments.
     */
    public static double psi(double[] reference, double[] observed) {
        checkSameLength(reference, observed);
        double sum = 0;
        for (int i = 0; i < reference.length; i++) {
            double e = Math.max(reference[i], PSI_EPSILON);
            double a = Math.max(observed[i], PSI_EPSILON);
            sum += (a - e) * Math.log(a / e);
        }
        return sum;
    }

    /**
     * Jensen–Shannon distance with base-2 logarithms: the square root of
     * {@code JSD = ½ KL(P‖M) + ½ KL(Q‖M)}, {@code M = ½ (P + Q)}, which lies in [0, 1]. Empty bins
     * contribute nothing ({@code 0 · log 0 = 0}), so no epsilon is needed.
     */
    public static double jensenShannon(double[] p, double[] q) {
        checkSameLength(p, q);
        double jsd = 0;
        for (int i = 0; i < p.length; i++) {
            double m = 0.5 * (p[i] + q[i]);
            if (p[i] > 0) {
                jsd += 0.5 * p[i] * log2(p[i] / m);
            }
            if (q[i] > 0) {
                jsd += 0.5 * q[i] * log2(q[i] / m);
            }
        }
        return Math.sqrt(Math.min(1.0, Math.max(0.0, jsd)));
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    private static void checkSameLength(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("distributions over different bins: " + a.length + " vs " + b.length);
        }
    }
}
