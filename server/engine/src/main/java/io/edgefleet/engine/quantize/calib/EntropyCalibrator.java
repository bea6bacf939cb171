package io.edgefleet.engine.quantize.calib;

/**
 * Chooses the clipping threshold {@code T} that minimises the KL divergence between the histogram of |x| and its
 * image after quantizing {@code [0, T]} into as many levels as the integer grid has for that side (128 for signed
 * data, 256 for non-negative data), as TensorRT's entropy calibration does. Values beyond {@code T} are folded into
 * the last kept bin so that clipping is charged to the candidate. The range is {@code [-T, T]} cut to what was seen.
 */
public final class EntropyCalibrator implements Calibrator {
    static final int BINS = 2048;
    private static final double EPS = 1e-4;

    private final Histogram histogram = new Histogram(BINS);

    @Override
    public void observe(float[] values) {
        histogram.observe(values);
    }

    @Override
    public Range range() {
        if (histogram.count() == 0) {
            throw new IllegalStateException("no finite value observed");
        }
        float min = histogram.min();
        float max = histogram.max();
        if (histogram.width() == 0) {
            return new Range(min, max); // all zeros
        }
        int levels = min >= 0 ? 256 : 128;
        // exact zeros (ReLU outputs, padding) are represented exactly whatever the threshold; counting them would
        // put a spike in the first bin that only the narrowest threshold can keep intact, so they are left out
        int keep = bestThresholdBins(histogram.nonZeroMagnitudes(), levels);
        float t = (float) (keep * histogram.width());
        return new Range(Math.max(min, -t), Math.min(max, t));
    }

    /** Number of leading bins whose upper edge is the KL-optimal threshold. */
    static int bestThresholdBins(long[] hist, int levels) {
        int n = hist.length;
        int last = n;
        while (last > 0 && hist[last - 1] == 0) {
            last--;
        }
        if (last <= levels) {
            return Math.max(last, 1); // fewer occupied bins than levels: nothing to gain by clipping
        }
        long[] suffix = new long[n + 1]; // suffix[i] = mass beyond the first i bins
        for (int j = n - 1; j >= 0; j--) {
            suffix[j] = suffix[j + 1] + hist[j];
        }
        double bestKl = Double.POSITIVE_INFINITY;
        int best = last;
        double[] p = new double[last];
        double[] q = new double[last];
        for (int i = levels; i <= last; i++) {
            long outliers = suffix[i];
            for (int j = 0; j < i; j++) {
                p[j] = hist[j];
            }
            p[i - 1] += outliers;
            // quantize the unclipped bins into `levels` groups, spreading each group's mass over its occupied bins
            for (int g = 0; g < levels; g++) {
                int from = (int) ((long) g * i / levels);
                int to = (int) ((long) (g + 1) * i / levels);
                long mass = 0;
                int occupied = 0;
                for (int j = from; j < to; j++) {
                    mass += hist[j];
                    if (hist[j] != 0) {
                        occupied++;
                    }
                }
                for (int j = from; j < to; j++) {
                    q[j] = hist[j] == 0 || occupied == 0 ? 0 : (double) mass / occupied;
                }
            }
            double kl = divergence(p, q, i);
            if (kl < bestKl) {
                bestKl = kl;
                best = i;
            }
        }
        return best;
    }

    /** KL(P || Q) over the first {@code len} bins, with Q smoothed so bins where P has mass never score infinity. */
    private static double divergence(double[] p, double[] q, int len) {
        double pSum = 0;
        double qSum = 0;
        int qZeros = 0;
        for (int j = 0; j < len; j++) {
            pSum += p[j];
            qSum += q[j];
            if (q[j] == 0) {
                qZeros++;
            }
        }
        if (pSum == 0 || qSum == 0) {
            return Double.POSITIVE_INFINITY;
        }
        // move a little mass from occupied bins of Q to its empty ones
        int qNonZeros = len - qZeros;
        double take = qZeros == 0 ? 0 : EPS * qZeros / qNonZeros;
        double kl = 0;
        for (int j = 0; j < len; j++) {
            if (p[j] == 0) {
                continue;
            }
            double pj = p[j] / pSum;
            double qj = q[j] == 0 ? EPS : q[j] / qSum - take * (q[j] / qSum);
            if (qj <= 0) {
                qj = EPS;
            }
            kl += pj * Math.log(pj / qj);
        }
        return kl;
    }

    int histogramBins() {
        return histogram.bins();
    }

    @Override
    public long count() {
        return histogram.count();
    }

    @Override
    public long skipped() {
        return histogram.skipped();
    }
}
