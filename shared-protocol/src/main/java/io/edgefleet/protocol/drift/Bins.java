package io.edgefleet.protocol.drift;

import java.util.Arrays;

/**
 * Quantile bin edges and histogram counting. A feature with {@code E} strictly increasing edges has
 * {@code E + 1} bins: bin 0 is the underflow ({@code v < edges[0]}), bins {@code 1..E-1} are the
 * inner intervals {@code [edges[i-1], edges[i])} with the last one closed on the right, and bin
 * {@code E} is the overflow ({@code v > edges[E-1]}). The outer edges are the reference's minimum and
 * maximum, so reference data never lands in under- or overflow, and values the reference never saw do.
 */
public final class Bins {
    /** Default number of inner bins (deciles), as in most PSI practice. */
    public static final int DEFAULT_BINS = 10;

    private Bins() {
    }

    /**
     * Edges at the reference's quantiles {@code 0, 1/bins, ..., 1} (linear interpolation between order
     * statistics), duplicates removed. A constant reference gets the two edges {@code v, nextUp(v)},
     * one inner bin that holds exactly {@code v}. NaN values are ignored.
     */
    public static double[] quantileEdges(double[] reference, int bins) {
        if (bins < 1) {
            throw new IllegalArgumentException("bins must be >= 1");
        }
        double[] sorted = Arrays.stream(reference).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (sorted.length == 0) {
            throw new IllegalArgumentException("no reference values to bin");
        }
        double[] edges = new double[bins + 1];
        int n = 0;
        for (int k = 0; k <= bins; k++) {
            double q = quantile(sorted, (double) k / bins);
            if (n == 0 || q > edges[n - 1]) {
                edges[n++] = q;
            }
        }
        if (n == 1) {
            return new double[] {edges[0], Math.nextUp(edges[0])};
        }
        return Arrays.copyOf(edges, n);
    }

    /** Edges for integer categories {@code 0..k-1}: one inner bin per category, anything else in under/overflow. */
    public static double[] categoryEdges(int k) {
        double[] edges = new double[k + 1];
        for (int i = 0; i <= k; i++) {
            edges[i] = i - 0.5;
        }
        return edges;
    }

    static double quantile(double[] sorted, double p) {
        double pos = p * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        double frac = pos - lo;
        return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
    }

    /** The bin of {@code v} against {@code edges}, in {@code [0, edges.length]}; -1 for NaN. */
    public static int index(double[] edges, double v) {
        if (Double.isNaN(v)) {
            return -1;
        }
        int e = edges.length;
        if (v < edges[0]) {
            return 0;
        }
        if (v > edges[e - 1]) {
            return e;
        }
        if (v == edges[e - 1]) {
            return e - 1; // the last inner bin is closed on the right
        }
        int pos = Arrays.binarySearch(edges, v);
        // exact hit on edges[pos] starts inner bin pos+1; otherwise the insertion point is the bin
        return pos >= 0 ? pos + 1 : -pos - 1;
    }

    /** Counts {@code values} into {@code edges.length + 1} bins; NaN is skipped. */
    public static long[] count(double[] edges, double[] values) {
        long[] counts = new long[edges.length + 1];
        for (double v : values) {
            int i = index(edges, v);
            if (i >= 0) {
                counts[i]++;
            }
        }
        return counts;
    }

    /** Counts divided by their total; all zeros when there are no counts. */
    public static double[] proportions(long[] counts) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        double[] p = new double[counts.length];
        if (total == 0) {
            return p;
        }
        for (int i = 0; i < counts.length; i++) {
            p[i] = (double) counts[i] / total;
        }
        return p;
    }
}
