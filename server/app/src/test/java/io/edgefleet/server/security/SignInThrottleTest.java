package io.edgefleet.server.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The sign-in throttle as a table: 3 failures within 60 s lock a client out for 10 s, doubling per further
 * failure up to 40 s. Each row is one step on one client at a time (seconds): what it does and what it is told.
 */
class SignInThrottleTest {

    static SignInThrottle throttle() {
        return new SignInThrottle(3, Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(40), 100);
    }

    /** Steps "t:action" (fail, ok, check) and the verdicts expected ("allow" or "refuse N"). */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            two failures are tolerated                       | 0:fail 1:fail 2:check                 | allow allow allow
            the third failure locks out for 10 s              | 0:fail 1:fail 2:fail 3:check          | allow allow refuse 10 refuse 9
            the lock-out ends                                 | 0:fail 1:fail 2:fail 12:check         | allow allow refuse 10 allow
            a failure after the lock-out doubles it          | 0:fail 1:fail 2:fail 12:fail 13:check | allow allow refuse 10 refuse 20 refuse 19
            doubling stops at the maximum                     | 0:fail 1:fail 2:fail 12:fail 32:fail 72:fail 73:check | allow allow refuse 10 refuse 20 refuse 40 refuse 40 refuse 39
            failures further apart than the window start over | 0:fail 1:fail 62:fail 63:check        | allow allow allow allow
            a good sign-in clears the count                   | 0:fail 1:fail 2:ok 3:fail 4:fail 5:check | allow allow allow allow allow allow
            """)
    void steps(String name, String steps, String expected) {
        SignInThrottle t = throttle();
        String[] want = expected.trim().split(" ");
        int w = 0;
        for (String step : steps.trim().split(" ")) {
            String[] p = step.split(":");
            long now = Long.parseLong(p[0]) * 1000;
            SignInThrottle.Verdict v = switch (p[1]) {
                case "fail" -> t.failed("10.0.0.1", now);
                case "check" -> t.check("10.0.0.1", now);
                case "ok" -> {
                    t.succeeded("10.0.0.1");
                    yield t.check("10.0.0.1", now);
                }
                default -> throw new IllegalArgumentException(step);
            };
            String got = v.allowed() ? "allow" : "refuse " + v.retryAfterSeconds();
            String exp = want[w].equals("allow") ? "allow" : want[w] + " " + want[++w];
            w++;
            assertEquals(exp, got, name + " at step " + step);
        }
        assertEquals(want.length, w, "every expected verdict was checked");
    }

    @Test
    void oneClientsLockOutDoesNotTouchAnother() {
        SignInThrottle t = throttle();
        for (int i = 0; i < 3; i++) {
            t.failed("10.0.0.1", 0);
        }
        assertTrue(!t.check("10.0.0.1", 1000).allowed());
        assertTrue(t.check("10.0.0.2", 1000).allowed());
    }

    @Test
    void theRecordsAreBoundedEvenUnderAFloodOfAddresses() {
        SignInThrottle t = throttle();
        for (int i = 0; i < 1000; i++) {
            t.failed("10.1." + (i / 256) + "." + (i % 256), i);
        }
        assertTrue(t.size() <= 100, "held " + t.size());
        // the newest client's record survived the evictions
        t.failed("10.1.3.231", 1000);
        t.failed("10.1.3.231", 1001);
        assertTrue(!t.check("10.1.3.231", 1002).allowed());
    }
}
