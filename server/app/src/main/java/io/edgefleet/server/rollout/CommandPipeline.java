package io.edgefleet.server.rollout;

import io.edgefleet.protocol.Command;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Commands to devices, published concurrently and never given up on, in plain Java. At most
 * {@code window} publishes are unacknowledged at a time (the broker's receive maximum bounds what an MQTT
 * client may have in flight; more would be refused with "too many publishes in progress"). A publish that
 * fails is retried after an exponential backoff with jitter, capped at {@code maxBackoffMs}, until the broker
 * acknowledges it or the pipeline closes; what a close drops stays recorded as undelivered in the database
 * (PENDING target, rollback still due) and is sent again on the next start.
 */
public final class CommandPipeline implements AutoCloseable {

    /** Sends one command; the future completes when the broker acknowledged it, exceptionally when it did not. */
    @FunctionalInterface
    public interface Publisher {
        CompletableFuture<Void> publish(String deviceId, Command command);
    }

    public record Options(int window, long initialBackoffMs, long maxBackoffMs) {
        public Options {
            if (window < 1) {
                throw new IllegalArgumentException("window must be at least 1");
            }
            if (initialBackoffMs < 1 || maxBackoffMs < initialBackoffMs) {
                throw new IllegalArgumentException("need 1 <= initialBackoffMs <= maxBackoffMs");
            }
        }
    }

    private final Publisher publisher;
    private final Options options;
    private final Semaphore permits;
    private final ScheduledExecutorService retries;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicLong attempts = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile boolean closed;

    public CommandPipeline(Publisher publisher, Options options) {
        this.publisher = publisher;
        this.options = options;
        this.permits = new Semaphore(options.window());
        this.retries = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "edgefleet-command-retry");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Queues one command. Blocks while the window is full (back-pressure on whoever produces commands);
     * the returned future completes once the broker acknowledged the command.
     */
    public CompletableFuture<Void> submit(String deviceId, Command command) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new IllegalStateException("command pipeline closed"));
            return done;
        }
        attempt(deviceId, command, done, 0, true);
        return done;
    }

    private void attempt(String deviceId, Command command, CompletableFuture<Void> done, int failed, boolean mayBlock) {
        if (closed) {
            done.completeExceptionally(new IllegalStateException("command pipeline closed"));
            return;
        }
        if (mayBlock) {
            permits.acquireUninterruptibly();
        } else if (!permits.tryAcquire()) {
            // The retry thread must not block behind a full window: look again shortly.
            retries.schedule(() -> attempt(deviceId, command, done, failed, false), 5, TimeUnit.MILLISECONDS);
            return;
        }
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        attempts.incrementAndGet();
        CompletableFuture<Void> f;
        try {
            f = publisher.publish(deviceId, command);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((ok, error) -> {
            inFlight.decrementAndGet();
            permits.release();
            if (error == null) {
                done.complete(null);
                return;
            }
            failures.incrementAndGet();
            long delay = backoffMs(failed + 1);
            try {
                retries.schedule(() -> attempt(deviceId, command, done, failed + 1, false), delay, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                done.completeExceptionally(error);
            }
        });
    }

    /** Exponential from initialBackoffMs, capped, with up to 25% jitter so a burst of failures does not retry in step. */
    long backoffMs(int failedAttempts) {
        double base = options.initialBackoffMs() * Math.pow(2, Math.min(30, failedAttempts - 1));
        long capped = (long) Math.min(options.maxBackoffMs(), base);
        return capped + ThreadLocalRandom.current().nextLong(capped / 4 + 1);
    }

    public int inFlight() {
        return inFlight.get();
    }

    /** The most publishes ever unacknowledged at once. */
    public int maxInFlight() {
        return maxInFlight.get();
    }

    public long attempts() {
        return attempts.get();
    }

    public long failures() {
        return failures.get();
    }

    @Override
    public void close() {
        closed = true;
        retries.shutdownNow();
    }
}
