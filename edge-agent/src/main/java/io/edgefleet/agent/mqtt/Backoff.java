package io.edgefleet.agent.mqtt;

import java.util.SplittableRandom;

/**
 * Reconnect delays for one session: exponential from {@code baseMs} to {@code capMs}, each delay drawn
 * at random from its upper half ("equal jitter"). Every session has its own instance and its own
 * random stream, so a fleet that lost its broker at the same moment does not come back in lockstep,
 * and agents in one JVM do not share a delay (Paho's built-in reconnect keeps its delay in a static
 * field, shared by every client of the JVM; that is why the session does not use it).
 */
public final class Backoff {
    private final long baseMs;
    private final long capMs;
    private final SplittableRandom random;
    private int attempt;

    public Backoff(long baseMs, long capMs, long seed) {
        if (baseMs < 1 || capMs < baseMs) {
            throw new IllegalArgumentException("need 1 <= baseMs <= capMs");
        }
        this.baseMs = baseMs;
        this.capMs = capMs;
        this.random = new SplittableRandom(seed);
    }

    /** The delay before the next attempt; each call counts one failed attempt. */
    public synchronized long nextDelayMs() {
        long ceiling = Math.min(capMs, baseMs << Math.min(attempt, 30));
        attempt++;
        long half = ceiling / 2;
        return half + random.nextLong(ceiling - half + 1);
    }

    /** After a successful connect the next loss starts again from the base delay. */
    public synchronized void reset() {
        attempt = 0;
    }

    public synchronized int attempts() {
        return attempt;
    }
}
