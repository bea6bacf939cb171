package io.edgefleet.it;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polls a condition until it holds; on timeout the failure says what was awaited and what was last seen. */
public final class Await {
    private Await() {
    }

    public static void until(Duration timeout, String what, BooleanSupplier condition, Supplier<String> lastSeen) {
        until(timeout, Duration.ofMillis(250), what, condition, lastSeen);
    }

    /** As above, looking every {@code poll}: for a state that lasts well under Await's usual quarter second. */
    public static void until(Duration timeout, Duration poll, String what, BooleanSupplier condition,
            Supplier<String> lastSeen) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException lastError = null;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
                lastError = null;
            } catch (RuntimeException | AssertionError e) {
                // The server may answer 404 until an entity exists; keep polling and report it if it persists.
                lastError = e instanceof RuntimeException re ? re : new RuntimeException(e);
            }
            try {
                Thread.sleep(poll.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what, e);
            }
        }
        String seen;
        try {
            seen = lastSeen.get();
        } catch (RuntimeException e) {
            seen = "(could not read state: " + e.getMessage() + ")";
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
                + "\nlast seen: " + seen + (lastError == null ? "" : "\nlast error: " + lastError.getMessage()), lastError);
    }

    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        until(timeout, what, condition, () -> "n/a");
    }
}
