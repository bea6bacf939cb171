package io.edgefleet.server.security;

import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows down guessing of console tokens: per client address, failed sign-ins are counted within a window; from
 * the {@code maxFailures}-th on, the client is locked out for {@code lockout}, doubling with every further
 * failure up to {@code maxLockout}. While locked out, a sign-in is refused (429 with Retry-After) before its
 * token is even looked at; a successful sign-in clears the client's record. Plain Java with an explicit clock
 * ({@code SignInThrottleTest} is its table); the HTTP edge is {@code ConsoleResource#signIn}.
 *
 * <p>At most {@code maxClients} records are held: when full, records whose window passed go first, then the
 * least recently failed, so a flood of addresses cannot grow the map without bound.
 */
public final class SignInThrottle {

    /** The answer for one client at one instant: allowed, or refused for {@code retryAfterSeconds} more. */
    public record Verdict(boolean allowed, long retryAfterSeconds) {
        static final Verdict ALLOW = new Verdict(true, 0);
    }

    record Record(int failures, long lastFailure, long lockedUntil) {
    }

    private final int maxFailures;
    private final long windowMs;
    private final long lockoutMs;
    private final long maxLockoutMs;
    private final int maxClients;
    private final Map<String, Record> clients = new ConcurrentHashMap<>();

    public SignInThrottle(int maxFailures, Duration window, Duration lockout, Duration maxLockout, int maxClients) {
        if (maxFailures < 1) {
            throw new IllegalArgumentException("max-failures must be at least 1");
        }
        this.maxFailures = maxFailures;
        this.windowMs = window.toMillis();
        this.lockoutMs = Math.max(1000, lockout.toMillis());
        this.maxLockoutMs = Math.max(this.lockoutMs, maxLockout.toMillis());
        this.maxClients = Math.max(1, maxClients);
    }

    /** May {@code client} try a token now? */
    public Verdict check(String client, long now) {
        Record r = clients.get(client);
        if (r == null || r.lockedUntil() <= now) {
            return Verdict.ALLOW;
        }
        return new Verdict(false, seconds(r.lockedUntil() - now));
    }

    /** Records a failed sign-in and answers what the client may do next (refused once the limit is reached). */
    public Verdict failed(String client, long now) {
        if (!clients.containsKey(client) && clients.size() >= maxClients) {
            evict(now);
        }
        Record r = clients.compute(client, (k, old) -> {
            int failures = old == null || now - old.lastFailure() > windowMs ? 1 : old.failures() + 1;
            long locked = old == null ? 0 : old.lockedUntil();
            if (failures >= maxFailures) {
                int doublings = Math.min(30, failures - maxFailures);
                locked = now + Math.min(maxLockoutMs, lockoutMs << doublings);
            }
            return new Record(failures, now, locked);
        });
        return r.lockedUntil() > now ? new Verdict(false, seconds(r.lockedUntil() - now)) : Verdict.ALLOW;
    }

    /** A good token clears the client's failures. */
    public void succeeded(String client) {
        clients.remove(client);
    }

    int size() {
        return clients.size();
    }

    private void evict(long now) {
        clients.entrySet().removeIf(e -> now - e.getValue().lastFailure() > windowMs && e.getValue().lockedUntil() <= now);
        while (clients.size() >= maxClients) {
            clients.entrySet().stream().min(Comparator.comparingLong(e -> e.getValue().lastFailure()))
                    .ifPresent(e -> clients.remove(e.getKey()));
        }
    }

    private static long seconds(long ms) {
        return Math.max(1, (ms + 999) / 1000);
    }
}
