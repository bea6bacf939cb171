package io.edgefleet.engine.quantize.calib;

/**
 * Clips both tails: the range runs from the {@code (100 - p)}-th to the {@code p}-th percentile of the observed
 * values, read from a {@link Histogram} (bounded memory). Tails that hold no values (e.g. after a ReLU) clip nothing.
 */
public final class PercentileCalibrator implements Calibrator {
    public static final double DEFAULT_PERCENTILE = 99.99;
    static final int BINS = 2048;

    private final double percentile;
    private final Histogram histogram = new Histogram(BINS);

    public PercentileCalibrator(double percentile) {
        if (!(percentile > 50 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in (50, 100], was " + percentile);
        }
        this.percentile = percentile;
    }

    @Override
    public void observe(float[] values) {
        histogram.observe(values);
    }

    @Override
    public Range range() {
        double tail = (100 - percentile) / 100;
        float lo = (float) histogram.quantile(tail);
        float hi = (float) histogram.quantile(1 - tail);
        return new Range(Math.min(lo, hi), Math.max(lo, hi));
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
