package io.edgefleet.engine.quantize.calib;

/**
 * A fixed-size histogram of signed values: magnitudes of positive and of negative values in two arrays of
 * {@code bins} bins of equal width covering {@code [0, bins * width)}. When a value beyond the covered range arrives
 * the width doubles and adjacent bin pairs merge, which is exact (no re-binning error) and keeps memory constant.
 * After any growth the largest magnitude lies in the upper half of the range, so at least half the bins resolve it.
 */
final class Histogram {
    private final long[] pos;
    private final long[] neg;
    private long zeros; // exact zeros, kept apart so quantiles of ReLU-like data land on 0 exactly
    private double width; // 0 until a non-zero value fixes the scale
    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;
    private long count;
    private long skipped;

    Histogram(int bins) {
        if (bins < 16) {
            throw new IllegalArgumentException("need at least 16 bins, got " + bins);
        }
        pos = new long[bins];
        neg = new long[bins];
    }

    void observe(float[] values) {
        float absMax = 0f;
        for (float v : values) {
            if (Float.isFinite(v)) {
                absMax = Math.max(absMax, Math.abs(v));
            }
        }
        grow(absMax);
        int n = pos.length;
        for (float v : values) {
            if (!Float.isFinite(v)) {
                skipped++;
                continue;
            }
            count++;
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
            if (v == 0f) {
                zeros++;
                continue;
            }
            double a = Math.abs(v);
            int b = width == 0 ? 0 : (int) Math.min(n - 1, a / width);
            if (v < 0) {
                neg[b]++;
            } else {
                pos[b]++;
            }
        }
    }

    private void grow(float absMax) {
        if (absMax == 0f) {
            return;
        }
        int n = pos.length;
        if (width == 0) {
            width = (double) absMax / n;
            return;
        }
        while (absMax > width * n) {
            for (int i = 0; i < n / 2; i++) {
                pos[i] = pos[2 * i] + pos[2 * i + 1];
                neg[i] = neg[2 * i] + neg[2 * i + 1];
            }
            if ((n & 1) != 0) {
                pos[n / 2] = pos[n - 1];
                neg[n / 2] = neg[n - 1];
            }
            for (int i = (n + 1) / 2; i < n; i++) {
                pos[i] = 0;
                neg[i] = 0;
            }
            width *= 2;
        }
    }

    int bins() {
        return pos.length;
    }

    double width() {
        return width;
    }

    long count() {
        return count;
    }

    long skipped() {
        return skipped;
    }

    float min() {
        return min;
    }

    float max() {
        return max;
    }

    /** Counts of |x| per bin (positive and negative values together), exact zeros in bin 0. */
    long[] magnitudes() {
        long[] m = nonZeroMagnitudes();
        m[0] += zeros;
        return m;
    }

    /** Counts of |x| per bin without the exact zeros. */
    long[] nonZeroMagnitudes() {
        long[] m = new long[pos.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = pos[i] + neg[i];
        }
        return m;
    }

    /**
     * The value below which a fraction {@code q} of the observed values lie, interpolating linearly inside a bin and
     * clamped to the observed [min, max].
     */
    double quantile(double q) {
        if (count == 0) {
            throw new IllegalStateException("no finite value observed");
        }
        double target = q * count;
        double seen = 0;
        int n = pos.length;
        // negative bins from the most negative towards zero, then positive bins upwards
        for (int i = n - 1; i >= 0; i--) {
            if (neg[i] > 0 && seen + neg[i] >= target) {
                double frac = (target - seen) / neg[i];
                return clamp(-(i + 1 - frac) * width);
            }
            seen += neg[i];
        }
        if (seen + zeros >= target && zeros > 0) {
            return clamp(0);
        }
        seen += zeros;
        for (int i = 0; i < n; i++) {
            if (pos[i] > 0 && seen + pos[i] >= target) {
                double frac = (target - seen) / pos[i];
                return clamp((i + frac) * width);
            }
            seen += pos[i];
        }
        return max;
    }

    private double clamp(double v) {
        return Math.max(min, Math.min(max, v));
    }
}
