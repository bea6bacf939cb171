package io.edgefleet.agent.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.edgefleet.agent.health.HealthWatch.Breach;
import io.edgefleet.agent.health.HealthWatch.Commit;
import io.edgefleet.agent.health.HealthWatch.Pending;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ReasonCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HealthWatchTest {
    static LatencyStats p95(double ms) {
        return new LatencyStats(ms / 2, ms, ms, ms, ms / 2);
    }

    @Test
    void commitsAfterTheConfiguredNumberOfPassingWindows() {
        HealthWatch w = new HealthWatch(new HealthPolicy(25, 0.05, 3, 5));
        assertEquals(new Pending(true, 1, 3), w.observe(100, 0, p95(10)));
        assertEquals(new Pending(true, 2, 3), w.observe(100, 1, p95(24.9)));
        assertEquals(new Commit(3), w.observe(100, 5, p95(25.0)));
        assertThrows(IllegalStateException.class, () -> w.observe(100, 0, p95(1)), "decided once");
    }

    @Test
    void latencyBreachNeedsTwoWindowsInARowAndNamesTheNumbers() {
        HealthWatch w = new HealthWatch(new HealthPolicy(25, 0.05, 2, 5));
        assertEquals(new Pending(false, 0, 2), w.observe(100, 0, p95(30.5)), "one window over is not yet a breach");
        Breach b = assertInstanceOf(Breach.class, w.observe(100, 0, p95(41.23)));
        assertEquals(ReasonCode.LATENCY_SLO_BREACH, b.reason());
        assertEquals("p95 41.2 ms > SLO 25.0 ms in window 2 and 30.5 ms in the window before", b.detail());
    }

    @Test
    void oneNoisyWindowNeitherPassesNorRollsBack() {
        // the noisy window does not count: the watch of 2 commits after 2 windows within the SLO
        HealthWatch w = new HealthWatch(new HealthPolicy(25, 0.05, 2, 5));
        assertEquals(new Pending(true, 1, 2), w.observe(100, 0, p95(20)));
        assertEquals(new Pending(false, 1, 2), w.observe(100, 0, p95(60)));
        assertEquals(new Commit(2), w.observe(100, 0, p95(24)));
        // windows over the SLO apart from each other never breach on latency
        HealthWatch apart = new HealthWatch(new HealthPolicy(25, 0.05, 3, 5));
        apart.observe(100, 0, p95(30));
        apart.observe(100, 0, p95(10));
        apart.observe(100, 0, p95(30));
        apart.observe(100, 0, p95(10));
        assertEquals(new Commit(3), apart.observe(100, 0, p95(10)));
    }

    @Test
    void errorRateBreachCountsFailedAmongAttempted() {
        HealthWatch w = new HealthWatch(new HealthPolicy(0, 0.1, 2, 5));
        w.observe(50, 5, p95(1)); // exactly 10 %: passes
        Breach b = assertInstanceOf(Breach.class, w.observe(50, 6, p95(1)));
        assertEquals(ReasonCode.ERROR_RATE_BREACH, b.reason());
        assertEquals("error rate 0.120 (6 of 50 inferences failed) > max 0.100 in window 2", b.detail());
    }

    @Test
    void everyInferenceFailingIsAnErrorBreachEvenWithoutLatencies() {
        HealthWatch w = new HealthWatch(new HealthPolicy(25, 0.05, 2, 5));
        Breach b = assertInstanceOf(Breach.class, w.observe(20, 20, null));
        assertEquals(ReasonCode.ERROR_RATE_BREACH, b.reason());
    }

    @ParameterizedTest(name = "{0} inferences with minInferences {1} counted={2}")
    @CsvSource({"4,5,false", "5,5,true", "0,0,false", "1,0,true"})
    void windowsBelowMinInferencesNeitherPassNorFail(long inferences, int min, boolean counted) {
        HealthWatch w = new HealthWatch(new HealthPolicy(1, 0, 5, min));
        // A terrible window: it would breach the error rule if it counted.
        var v = w.observe(inferences, inferences, p95(1000));
        if (counted) {
            assertInstanceOf(Breach.class, v);
        } else {
            assertEquals(new Pending(false, 0, 5), v);
        }
    }

    @Test
    void zeroLatencyLimitDisablesTheLatencyRule() {
        HealthWatch w = new HealthWatch(new HealthPolicy(0, 0.05, 1, 1));
        assertEquals(new Commit(1), w.observe(10, 0, p95(10_000)));
    }
}
