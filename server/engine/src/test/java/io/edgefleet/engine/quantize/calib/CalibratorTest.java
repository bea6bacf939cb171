package io.edgefleet.engine.quantize.calib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class CalibratorTest {

    private static float[][] gaussianBatches(long seed, int batches, int size, float outlier) {
        Random r = new Random(seed);
        float[][] out = new float[batches][size];
        for (float[] b : out) {
            for (int i = 0; i < size; i++) {
                b[i] = (float) r.nextGaussian();
            }
        }
        out[batches - 1][0] = outlier;
        return out;
    }

    @Test
    void minMaxIsTheObservedExtremesSkippingNonFinite() {
        MinMaxCalibrator c = new MinMaxCalibrator();
        assertThrows(IllegalStateException.class, c::range);
        c.observe(new float[] {1f, -3f, Float.NaN});
        c.observe(new float[] {7f, Float.POSITIVE_INFINITY});
        assertEquals(new Range(-3f, 7f), c.range());
        assertEquals(3, c.count());
        assertEquals(2, c.skipped());
    }

    @Test
    void percentileClipsARareOutlierThatMinMaxKeeps() {
        float[][] batches = gaussianBatches(1, 20, 5_000, 60f);
        PercentileCalibrator p = new PercentileCalibrator(99.99);
        MinMaxCalibrator m = new MinMaxCalibrator();
        for (float[] b : batches) {
            p.observe(b);
            m.observe(b);
        }
        assertEquals(60f, m.range().max());
        Range r = p.range();
        // the 99.99th percentile of a standard normal is ~3.72
        assertEquals(3.72, r.max(), 0.35);
        assertEquals(-3.72, r.min(), 0.35);
    }

    @Test
    void percentileOfNonNegativeDataStartsAtZero() {
        Random rnd = new Random(5);
        PercentileCalibrator p = new PercentileCalibrator(99.0);
        float[] relu = new float[100_000];
        for (int i = 0; i < relu.length; i++) {
            relu[i] = Math.max(0f, (float) rnd.nextGaussian());
        }
        p.observe(relu);
        Range r = p.range();
        assertEquals(0f, r.min());
        // for x > 0, P(max(0, N) <= x) = Phi(x): the 99th percentile is Phi^-1(0.99) = 2.326
        assertEquals(2.326, r.max(), 0.05);
        assertThrows(IllegalArgumentException.class, () -> new PercentileCalibrator(40));
    }

    @Test
    void histogramGrowthKeepsQuantilesWhenRangeExpandsLater() {
        // a first small batch fixes a small bin width; later wide batches force the width to double repeatedly
        Random rnd = new Random(9);
        PercentileCalibrator grown = new PercentileCalibrator(99.9);
        PercentileCalibrator direct = new PercentileCalibrator(99.9);
        float[] small = new float[1000];
        for (int i = 0; i < small.length; i++) {
            small[i] = (float) rnd.nextGaussian() * 0.01f;
        }
        float[] wide = new float[200_000];
        for (int i = 0; i < wide.length; i++) {
            wide[i] = (float) rnd.nextGaussian() * 10f;
        }
        grown.observe(small);
        grown.observe(wide);
        direct.observe(wide);
        direct.observe(small);
        assertEquals(direct.range().max(), grown.range().max(), 0.2);
        assertEquals(30.9, grown.range().max(), 1.0); // 99.9th pct of N(0,10)
    }

    @Test
    void entropyClipsLongTailsButKeepsACompactDistribution() {
        float[][] batches = gaussianBatches(2, 10, 10_000, 80f);
        EntropyCalibrator e = new EntropyCalibrator();
        for (float[] b : batches) {
            e.observe(b);
        }
        Range r = e.range();
        assertTrue(r.max() < 20f && r.max() > 2.5f, "threshold " + r);
        // the clip is symmetric, but never wider than what was seen (the negative tail had no outlier)
        assertTrue(r.min() >= -r.max() && r.min() < -3f, "range " + r);

        // uniform data has no tail worth clipping: the threshold stays near the max
        Random rnd = new Random(4);
        EntropyCalibrator u = new EntropyCalibrator();
        float[] uni = new float[100_000];
        for (int i = 0; i < uni.length; i++) {
            uni[i] = rnd.nextFloat() * 4f;
        }
        u.observe(uni);
        assertTrue(u.range().min() >= 0f && u.range().min() < 1e-3f, "uniform range " + u.range());
        assertTrue(u.range().max() > 3.8f, "uniform threshold " + u.range());
    }

    @Test
    void entropyIgnoresTheZeroSpikeOfReluOutputs() {
        // half the values are exact zeros; counting them would force the narrowest threshold (256 of 2048 bins)
        Random rnd = new Random(6);
        float[] relu = new float[40_000];
        for (int i = 0; i < relu.length; i++) {
            relu[i] = Math.max(0f, (float) rnd.nextGaussian());
        }
        EntropyCalibrator e = new EntropyCalibrator();
        e.observe(relu);
        Range r = e.range();
        assertEquals(0f, r.min());
        assertTrue(r.max() > 2.5f, "threshold " + r);
    }

    @Test
    void entropyIsDeterministicAndNearlyOrderIndependent() {
        float[][] batches = gaussianBatches(3, 6, 4_000, 30f);
        EntropyCalibrator a = new EntropyCalibrator();
        EntropyCalibrator again = new EntropyCalibrator();
        EntropyCalibrator reversed = new EntropyCalibrator();
        for (float[] x : batches) {
            a.observe(x);
            again.observe(x);
        }
        for (int i = batches.length - 1; i >= 0; i--) {
            reversed.observe(batches[i]);
        }
        assertEquals(a.range(), again.range());
        // a different first batch gives a different bin grid, hence a slightly different threshold
        assertEquals(a.range().max(), reversed.range().max(), 0.15 * a.range().max());
    }

    @Test
    void allZeroTensorCalibratesToZeroRange() {
        for (Calibrator.Method m : Calibrator.Method.values()) {
            Calibrator c = m.create();
            c.observe(new float[] {0f, 0f, 0f});
            assertEquals(new Range(0f, 0f), c.range(), m.name());
        }
    }

    @Test
    void memoryStaysBoundedOverManyBatches() {
        EntropyCalibrator e = new EntropyCalibrator();
        Random rnd = new Random(1);
        float[] b = new float[1000];
        for (int k = 0; k < 500; k++) {
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) rnd.nextGaussian() * (1 + k * 0.01f);
            }
            e.observe(b);
        }
        assertEquals(500_000, e.count());
        assertEquals(EntropyCalibrator.BINS, e.histogramBins());
    }
}
