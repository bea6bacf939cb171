package io.edgefleet.engine.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.gate.AccuracyGate;
import io.edgefleet.engine.planner.FittedCostModel.Observation;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The per-class cost model fitted from device benchmark reports, as a table of cases. */
class FittedCostModelTest {
    private static final DeviceClassProfile CLASS = new DeviceClassProfile("pi4", Set.of("fp32"), 1L << 30, 1L << 32,
            2.0, 6.0, 1.0, new DeviceClassProfile.Slo(25, 1_000_000, null), new AccuracyGate(1, 2));

    /** A report: the server's median of the artifact, the device's p95 (its mean 0.9 of that) and energy. */
    private static Observation obs(String sha, double server, double device, Double energy) {
        return new Observation(sha, server, device, device * 0.9, energy);
    }

    @Test
    void oneArtifactFitsAPureScaleAndReportsItsError() {
        // three devices of one class measured the same artifact: 4.0, 4.4 and 3.6 x the server's 2 ms
        FittedCostModel f = FittedCostModel.fit("pi4", List.of(obs("a", 2, 8, null), obs("a", 2, 8.8, null),
                obs("a", 2, 7.2, null)));
        assertEquals(4.0, f.p95().scale(), 1e-9);
        assertEquals(0.0, f.p95().offset());
        assertEquals(3, f.reports());
        assertEquals(1, f.artifacts());
        // |8-8|/8, |8-8.8|/8.8, |8-7.2|/7.2 -> mean 6.73 %
        assertEquals(100.0 * (0 + 0.8 / 8.8 + 0.8 / 7.2) / 3, f.latencyErrorPercent(), 1e-9);
        assertTrue(f.summary().startsWith("fitted from 3 device reports over 1 artifact, error 6.7%"), f.summary());
        assertNull(f.energyMjPerServerMs());
    }

    @Test
    void twoArtifactsWithAFixedOverheadKeepTheOffset() {
        // device = 3 x server + 1.5 ms exactly: the offset fit is exact, the scale-only fit is not
        FittedCostModel f = FittedCostModel.fit("pi4", List.of(obs("a", 1, 4.5, 2.0), obs("b", 4, 13.5, 8.0),
                obs("b", 4, 13.5, 8.0)));
        assertEquals(3.0, f.p95().scale(), 1e-9);
        assertEquals(1.5, f.p95().offset(), 1e-9);
        assertEquals(0.0, f.latencyErrorPercent(), 1e-9);
        assertEquals(2, f.artifacts());
        // energy through the origin: 2 mJ at a 1 ms server median, 8 mJ at 4 ms -> 2 mJ per server-ms, exact
        assertEquals(2.0, f.energyMjPerServerMs(), 1e-9);
        assertEquals(0.0, f.energyErrorPercent(), 1e-9);
        // a candidate the server timed at p50 2 ms, p95 3 ms, mean 2.5 ms: the lines and energy scale its median
        CostModel.Estimate e = f.estimate(new CostModel.Measured(2.0, 3.0, 2.5, 0, 0), CLASS);
        assertEquals(3 * 2.0 + 1.5, e.p95Ms(), 1e-9);
        assertEquals(2.0 * 2.0, e.energyMj(), 1e-9);
        assertTrue(e.latencySource().contains("x server p50"), e.latencySource());
        assertTrue(e.latencySource().contains("fitted from 3 device reports"), e.latencySource());
        assertEquals("fitted:pi4", f.name());
    }

    @Test
    void anOffsetThatDoesNotHelpIsDropped() {
        // proportional data with noise: the through-origin line is kept when the offset does not lower the error
        FittedCostModel f = FittedCostModel.fit("pi4", List.of(obs("a", 1, 2, null), obs("b", 2, 4, null),
                obs("c", 3, 6, null)));
        assertEquals(2.0, f.p95().scale(), 1e-9);
        assertEquals(0.0, f.p95().offset());
    }

    @Test
    void aNegativeOffsetIsDroppedSoACandidateFasterThanEveryBenchmarkedArtifactIsNeverCostedAtZero() {
        // two artifacts the server timed at nearly the same median whose devices differ more: least squares with an
        // offset fits them exactly with device = 8 x server - 1 ms, and would cost a 0.06 ms candidate at zero
        FittedCostModel f = FittedCostModel.fit("pi4", List.of(obs("a", 0.15, 0.20, null), obs("b", 0.16, 0.28, null)));
        assertEquals(0.0, f.p95().offset());
        double scale = (0.15 * 0.20 + 0.16 * 0.28) / (0.15 * 0.15 + 0.16 * 0.16);
        assertEquals(scale, f.p95().scale(), 1e-9);
        CostModel.Estimate e = f.estimate(new CostModel.Measured(0.06, 0.08, 0.07, 0, 0), CLASS);
        assertEquals(scale * 0.06, e.p95Ms(), 1e-9);
        assertTrue(e.p95Ms() > 0.05, e.toString());
    }

    @Test
    void withoutDeviceEnergyTheDeclaredPowerModelPricesTheFittedMean() {
        FittedCostModel f = FittedCostModel.fit("pi4", List.of(obs("a", 2, 8, null)));
        CostModel.Estimate e = f.estimate(new CostModel.Measured(1.0, 2.0, 1.0, 0, 0), CLASS);
        assertEquals(f.mean().apply(1.0) * 4.0, e.energyMj(), 1e-9);
        // the server's tail does not move the estimate: the same median with a p95 twice as long costs the same
        CostModel.Estimate noisy = f.estimate(new CostModel.Measured(1.0, 4.0, 1.5, 0, 0), CLASS);
        assertEquals(f.estimate(new CostModel.Measured(1.0, 1.1, 1.0, 0, 0), CLASS).p95Ms(), noisy.p95Ms(), 1e-12);
        assertTrue(e.energySource().contains("declared power model"), e.energySource());
        assertNull(f.estimate(new CostModel.Measured(null, null, null, 0, 0), CLASS).p95Ms());
    }

    @Test
    void theFitKeepsEachBenchmarkedArtifactsServerMedian() {
        // artifact a benchmarked in three jobs (server medians 2, 2.4, 9: one job beside other work): their median;
        // b in two: their mean
        FittedCostModel f = FittedCostModel.fit("pi4", List.of(obs("a", 2, 8, null), obs("a", 2.4, 8, null),
                obs("a", 9, 8, null), obs("b", 1, 4, null), obs("b", 1.2, 4, null)));
        assertEquals(2.4, f.benchmarkedServerP50("a"), 1e-12);
        assertEquals(1.1, f.benchmarkedServerP50("b"), 1e-12);
        assertNull(f.benchmarkedServerP50("c"));
        assertNull(CostModel.DeclaredProfile.INSTANCE.benchmarkedServerP50("a"));
    }

    @Test
    void refusesToFitOnNothing() {
        assertThrows(IllegalArgumentException.class, () -> FittedCostModel.fit("pi4", List.of()));
        assertThrows(IllegalArgumentException.class, () -> FittedCostModel.fit("pi4", List.of(obs("a", 0, 3, null))));
    }
}
