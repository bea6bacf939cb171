package io.edgefleet.protocol.drift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DriftStatsTest {

    @Test
    void psiOfIdenticalDistributionsIsZero() {
        double[] p = {0.1, 0.2, 0.3, 0.4};
        assertEquals(0.0, DriftStats.psi(p, p), 1e-15);
    }

    @Test
    void psiMatchesAHandComputedCase() {
        // (0.25-0.5)·ln(0.25/0.5) + (0.75-0.5)·ln(0.75/0.5) = 0.1732868 + 0.1013663
        assertEquals(0.2746531, DriftStats.psi(new double[] {0.5, 0.5}, new double[] {0.25, 0.75}), 1e-6);
        // symmetric
        assertEquals(DriftStats.psi(new double[] {0.25, 0.75}, new double[] {0.5, 0.5}),
                DriftStats.psi(new double[] {0.5, 0.5}, new double[] {0.25, 0.75}), 1e-15);
    }

    @Test
    void psiUsesTheDocumentedEpsilonForEmptyBins() {
        // reference bin 2 empty, observed 1 %: (0.01 - 1e-4)·ln(0.01/1e-4) plus the change in the others
        double[] ref = {0.5, 0.5, 0.0};
        double[] obs = {0.495, 0.495, 0.01};
        double expected = 2 * (0.495 - 0.5) * Math.log(0.495 / 0.5) + (0.01 - 1e-4) * Math.log(0.01 / 1e-4);
        assertEquals(expected, DriftStats.psi(ref, obs), 1e-12);
        assertTrue(Double.isFinite(DriftStats.psi(new double[] {1, 0}, new double[] {0, 1})));
    }

    @Test
    void jensenShannonDistanceIsBase2AndBounded() {
        assertEquals(0.0, DriftStats.jensenShannon(new double[] {0.3, 0.7}, new double[] {0.3, 0.7}), 1e-12);
        assertEquals(1.0, DriftStats.jensenShannon(new double[] {1, 0}, new double[] {0, 1}), 1e-12);
        // JSD = ½·(0.5·log2(0.5/0.75) + 0.5·log2(0.5/0.25)) + ½·log2(1/0.75) = 0.3112781; distance = sqrt
        assertEquals(Math.sqrt(0.3112781), DriftStats.jensenShannon(new double[] {0.5, 0.5}, new double[] {1, 0}), 1e-6);
    }

    @Test
    void differentBinCountsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> DriftStats.psi(new double[] {1}, new double[] {0.5, 0.5}));
    }

    @Test
    void quantileEdgesSpanTheReferenceAndSplitItEvenly() {
        double[] ref = new double[101];
        for (int i = 0; i <= 100; i++) {
            ref[i] = i;
        }
        double[] edges = Bins.quantileEdges(ref, 4);
        assertArrayEquals(new double[] {0, 25, 50, 75, 100}, edges, 1e-12);
        long[] counts = Bins.count(edges, ref);
        // underflow, 4 inner bins (last one closed), overflow
        assertArrayEquals(new long[] {0, 25, 25, 25, 26, 0}, counts);
        assertEquals(0, Bins.index(edges, -1));
        assertEquals(5, Bins.index(edges, 100.5));
        assertEquals(1, Bins.index(edges, 0));
        assertEquals(2, Bins.index(edges, 25));
        assertEquals(-1, Bins.index(edges, Double.NaN));
    }

    @Test
    void tiedQuantilesCollapseAndAConstantReferenceGetsOneInnerBin() {
        double[] edges = Bins.quantileEdges(new double[] {1, 1, 1, 1, 2}, 4);
        assertArrayEquals(new double[] {1, 2}, edges, 0);
        double[] constant = Bins.quantileEdges(new double[] {3, 3, 3}, 10);
        assertEquals(2, constant.length);
        assertEquals(1, Bins.index(constant, 3));
        assertEquals(2, Bins.index(constant, 3.1));
    }

    @Test
    void categoryEdgesGiveOneBinPerClass() {
        double[] edges = Bins.categoryEdges(3);
        assertArrayEquals(new long[] {0, 2, 1, 1, 1}, Bins.count(edges, new double[] {0, 0, 1, 2, 3}));
    }
}
