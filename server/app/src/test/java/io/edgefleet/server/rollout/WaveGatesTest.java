package io.edgefleet.server.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.server.rollout.WaveMachine.GateResult;
import io.edgefleet.server.telemetry.WindowSummary;
import java.util.List;
import org.junit.jupiter.api.Test;

class WaveGatesTest {
    static final RolloutPolicy.Gates GATES = new RolloutPolicy(null, null, null, null,
            new RolloutPolicy.Gates(null, null, null, 0.3, null, 2), null, null).resolved().gates();
    static final WaveGates.ClassSlo SLO = new WaveGates.ClassSlo(10.0, 5.0);

    static WindowSummary summary(long windows, Double errorRate, Double p95, Double energy, Double drift) {
        return new WindowSummary(windows, 1, 100, errorRate == null ? 0 : (long) (errorRate * 100), errorRate, p95, energy,
                drift);
    }

    static GateResult gate(List<GateResult> results, String name) {
        return results.stream().filter(r -> r.gate().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void latencyOverTheSloAndWorseThanBeforeBreaks() {
        List<GateResult> r = WaveGates.judge(GATES, SLO, summary(3, 0.0, 25.0, 1.0, 0.1), summary(3, 0.0, 4.0, 1.0, 0.1));
        assertTrue(gate(r, "p95LatencyMs").breached());
        assertFalse(gate(r, "errorRate").breached());
        assertFalse(gate(r, "energyMjPerInference").breached());
        assertFalse(gate(r, "drift").breached());
    }

    @Test
    void overTheSloButNoWorseThanTheOldVersionDoesNotBreak() {
        // the class already missed its SLO before the wave: within 10% of the baseline is not the new version's fault
        List<GateResult> r = WaveGates.judge(GATES, SLO, summary(3, 0.0, 21.0, 1.0, 0.1), summary(3, 0.0, 20.0, 1.0, 0.1));
        assertFalse(gate(r, "p95LatencyMs").breached());
    }

    @Test
    void everyGateBreaksOnItsOwnMetric() {
        List<GateResult> r = WaveGates.judge(GATES, SLO, summary(3, 0.2, 5.0, 9.0, 0.9), WindowSummary.EMPTY);
        assertFalse(gate(r, "p95LatencyMs").breached());
        assertTrue(gate(r, "errorRate").breached());
        assertTrue(gate(r, "energyMjPerInference").breached());
        assertTrue(gate(r, "drift").breached());
    }

    @Test
    void gatesOnMetricsNoTelemetryCarriesAreNotEvaluated() {
        List<GateResult> r = WaveGates.judge(GATES, SLO, summary(3, 0.0, 5.0, null, null), WindowSummary.EMPTY);
        assertFalse(gate(r, "energyMjPerInference").evaluated());
        assertFalse(gate(r, "drift").evaluated());
        assertTrue(gate(r, "p95LatencyMs").evaluated());
        // a class without an energy SLO has no energy gate at all
        assertEquals(3, WaveGates.judge(GATES, new WaveGates.ClassSlo(10.0, null), summary(3, 0.0, 5.0, 9.0, 0.1),
                WindowSummary.EMPTY).size());
    }

    @Test
    void tooFewWindowsEvaluateNothing() {
        List<GateResult> r = WaveGates.judge(GATES, SLO, summary(1, 0.9, 99.0, 99.0, 9.0), WindowSummary.EMPTY);
        assertTrue(r.stream().noneMatch(GateResult::evaluated), r.toString());
    }
}
