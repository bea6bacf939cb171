package io.edgefleet.engine.quantize.calib;

/** The observed minimum and maximum: no clipping, so outliers widen the grid for every other value. */
public final class MinMaxCalibrator implements Calibrator {
    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;
    private long count;
    private long skipped;

    @Override
    public void observe(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                skipped++;
                continue;
            }
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
            count++;
        }
    }

    @Override
    public Range range() {
        if (count == 0) {
            throw new IllegalStateException("no finite value observed");
        }
        return new Range(min, max);
    }

    @Override
    public long count() {
        return count;
    }

    @Override
    public long skipped() {
        return skipped;
    }
}
