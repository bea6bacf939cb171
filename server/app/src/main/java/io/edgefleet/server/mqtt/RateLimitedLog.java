package io.edgefleet.server.mqtt;

import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Logs at most one warning per interval and says how many were suppressed meanwhile, so a device
 * spamming garbage cannot flood the log.
 */
public final class RateLimitedLog {
    private final Logger log;
    private final long intervalMillis;
    private final AtomicLong nextAllowed = new AtomicLong();
    private final AtomicLong suppressed = new AtomicLong();

    public RateLimitedLog(Logger log, long intervalMillis) {
        this.log = log;
        this.intervalMillis = intervalMillis;
    }

    public void warn(String message) {
        long now = System.currentTimeMillis();
        long next = nextAllowed.get();
        if (now >= next && nextAllowed.compareAndSet(next, now + intervalMillis)) {
            long skipped = suppressed.getAndSet(0);
            log.warn(skipped == 0 ? message : message + " (" + skipped + " similar warnings suppressed)");
        } else {
            suppressed.incrementAndGet();
        }
    }
}
