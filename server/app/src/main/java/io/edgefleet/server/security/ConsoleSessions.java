package io.edgefleet.server.security;

import io.edgefleet.server.config.EdgefleetConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Console sign-ins: a random session id (the HttpOnly, SameSite=Strict cookie {@value #COOKIE}) mapped to the
 * principal whose token was entered and a per-session CSRF token the console's scripts send back in
 * {@value #CSRF_HEADER} on every state-changing call. Held in memory: a restart or another replica signs the
 * user out (docs/console.md). Sessions idle longer than {@code edgefleet.console.session-idle-timeout} end.
 */
@ApplicationScoped
public class ConsoleSessions {
    public static final String COOKIE = "edgefleet_session";
    public static final String CSRF_HEADER = "X-CSRF-Token";

    /** One signed-in browser. */
    public record Session(String id, ApiToken.Principal principal, String csrf, long createdAt, long lastSeen) {
        Session touched(long now) {
            return new Session(id, principal, csrf, createdAt, now);
        }

        /** Constant-time check of a presented CSRF token. */
        public boolean csrfMatches(String presented) {
            return presented != null && MessageDigest.isEqual(csrf.getBytes(StandardCharsets.UTF_8),
                    presented.getBytes(StandardCharsets.UTF_8));
        }
    }

    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final long idleMillis;
    private final int maxSessions;
    private final LongSupplier clock;

    @Inject
    public ConsoleSessions(EdgefleetConfig config) {
        this(config.console().sessionIdleTimeout(), config.console().maxSessions(), System::currentTimeMillis);
    }

    public ConsoleSessions(Duration idle, int maxSessions, LongSupplier clock) {
        this.idleMillis = idle.toMillis();
        this.maxSessions = Math.max(1, maxSessions);
        this.clock = clock;
    }

    public Session create(ApiToken.Principal principal) {
        long now = clock.getAsLong();
        evictExpired(now);
        while (sessions.size() >= maxSessions) {
            sessions.values().stream().min(Comparator.comparingLong(Session::lastSeen))
                    .ifPresent(oldest -> sessions.remove(oldest.id()));
        }
        Session s = new Session(Secrets.randomToken(), principal, Secrets.randomToken(), now, now);
        sessions.put(s.id(), s);
        return s;
    }

    /** The live session with this id, its idle clock restarted; empty when unknown or expired. */
    public Optional<Session> find(String id) {
        if (id == null || id.isEmpty()) {
            return Optional.empty();
        }
        long now = clock.getAsLong();
        Session s = sessions.get(id);
        if (s == null) {
            return Optional.empty();
        }
        if (now - s.lastSeen() > idleMillis) {
            sessions.remove(id, s);
            return Optional.empty();
        }
        Session touched = s.touched(now);
        sessions.replace(id, s, touched);
        return Optional.of(touched);
    }

    public void end(String id) {
        if (id != null) {
            sessions.remove(id);
        }
    }

    public int size() {
        return sessions.size();
    }

    private void evictExpired(long now) {
        sessions.values().removeIf(s -> now - s.lastSeen() > idleMillis);
    }
}
