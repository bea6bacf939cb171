package io.edgefleet.agent.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void delaysGrowWithinTheirBoundsUpToTheCapAndResetAfterAConnect() {
        Backoff b = new Backoff(1000, 30_000, 7);
        long[] ceilings = {1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000};
        for (long ceiling : ceilings) {
            long d = b.nextDelayMs();
            assertTrue(d >= ceiling / 2 && d <= ceiling, d + " not in [" + ceiling / 2 + ", " + ceiling + "]");
        }
        assertEquals(ceilings.length, b.attempts());
        b.reset();
        long first = b.nextDelayMs();
        assertTrue(first >= 500 && first <= 1000, "back to the base after a connect: " + first);
    }

    /** Issue 13, finding 6: agents that lost the broker together must not all come back at the same instants. */
    @Test
    void sessionsDoNotShareTheirDelays() {
        Set<Long> thirdDelays = new HashSet<>();
        List<Long> firstSession = new ArrayList<>();
        for (int agent = 0; agent < 100; agent++) {
            Backoff b = new Backoff(1000, 30_000, ("dev-" + agent).hashCode() * 31L + agent);
            List<Long> seq = List.of(b.nextDelayMs(), b.nextDelayMs(), b.nextDelayMs());
            if (agent == 0) {
                firstSession.addAll(seq);
            }
            thirdDelays.add(seq.get(2));
        }
        // 100 draws from [2000, 4000] ms: all equal would mean a shared delay; expect wide spread.
        assertTrue(thirdDelays.size() > 80, "distinct third delays: " + thirdDelays.size());
        Backoff other = new Backoff(1000, 30_000, 12345);
        assertNotEquals(firstSession, List.of(other.nextDelayMs(), other.nextDelayMs(), other.nextDelayMs()));
    }
}
