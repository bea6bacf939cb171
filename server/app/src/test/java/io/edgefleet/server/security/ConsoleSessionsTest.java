package io.edgefleet.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConsoleSessionsTest {
    final AtomicLong now = new AtomicLong(1_000_000);
    final ApiToken.Principal alice = new ApiToken.Principal("alice", Role.OPERATOR);

    @Test
    void aSessionLivesWhileUsedAndEndsAfterItsIdleTimeout() {
        ConsoleSessions s = new ConsoleSessions(Duration.ofMinutes(30), 10, now::get);
        ConsoleSessions.Session a = s.create(alice);
        assertNotEquals(a.id(), a.csrf());
        now.addAndGet(Duration.ofMinutes(29).toMillis());
        assertEquals(alice, s.find(a.id()).orElseThrow().principal(), "used within the timeout");
        now.addAndGet(Duration.ofMinutes(29).toMillis());
        assertTrue(s.find(a.id()).isPresent(), "each use restarts the idle clock");
        now.addAndGet(Duration.ofMinutes(31).toMillis());
        assertTrue(s.find(a.id()).isEmpty(), "idle too long");
        assertEquals(0, s.size());
    }

    @Test
    void signingOutEndsOnlyThatSession() {
        ConsoleSessions s = new ConsoleSessions(Duration.ofMinutes(30), 10, now::get);
        ConsoleSessions.Session a = s.create(alice);
        ConsoleSessions.Session b = s.create(alice);
        s.end(a.id());
        assertTrue(s.find(a.id()).isEmpty());
        assertTrue(s.find(b.id()).isPresent());
        assertTrue(s.find(null).isEmpty());
        assertTrue(s.find("").isEmpty());
        assertTrue(s.find("made-up").isEmpty());
    }

    @Test
    void atTheCapTheLeastRecentlyUsedSessionGivesWay() {
        ConsoleSessions s = new ConsoleSessions(Duration.ofMinutes(30), 2, now::get);
        ConsoleSessions.Session a = s.create(alice);
        now.incrementAndGet();
        ConsoleSessions.Session b = s.create(alice);
        now.incrementAndGet();
        s.find(a.id()); // a is now the more recently used
        now.incrementAndGet();
        ConsoleSessions.Session c = s.create(alice);
        assertEquals(2, s.size());
        assertTrue(s.find(a.id()).isPresent());
        assertTrue(s.find(b.id()).isEmpty());
        assertTrue(s.find(c.id()).isPresent());
    }

    @Test
    void theCsrfTokenMustMatchExactly() {
        ConsoleSessions.Session a = new ConsoleSessions(Duration.ofMinutes(1), 1, now::get).create(alice);
        assertTrue(a.csrfMatches(a.csrf()));
        assertFalse(a.csrfMatches(null));
        assertFalse(a.csrfMatches(""));
        assertFalse(a.csrfMatches(a.csrf() + "x"));
        assertFalse(a.csrfMatches(a.csrf().substring(1)));
    }
}
