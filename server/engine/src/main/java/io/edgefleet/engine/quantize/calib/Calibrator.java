package io.edgefleet.engine.quantize.calib;

/**
 * Collects the values of one activation tensor over streamed calibration batches and proposes a range to quantize
 * it with. Memory stays bounded whatever the number of batches; the result depends only on the values seen, not on
 * how they were split into batches, except where a histogram's bin width grows (documented per implementation).
 */
public interface Calibrator {

    /** Feeds one batch of values; NaN and infinities are skipped and counted in {@link #skipped()}. */
    void observe(float[] values);

    /** The proposed range; fails when no finite value has been observed. */
    Range range();

    /** Number of finite values observed. */
    long count();

    /** Number of non-finite values skipped. */
    long skipped();

    /** Calibration methods, each a fresh calibrator per tensor. */
    enum Method {
        MINMAX, PERCENTILE, ENTROPY;

        public Calibrator create() {
            return switch (this) {
                case MINMAX -> new MinMaxCalibrator();
                case PERCENTILE -> new PercentileCalibrator(PercentileCalibrator.DEFAULT_PERCENTILE);
                case ENTROPY -> new EntropyCalibrator();
            };
        }
    }
}
