package io.edgefleet.server.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.server.alert.AlertEvaluator.Change;
import io.edgefleet.server.alert.AlertEvaluator.Observation;
import io.edgefleet.server.alert.AlertEvaluator.Open;
import io.edgefleet.server.alert.AlertEvaluator.Transition;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The alert lifecycle as a table: (open state, observation, time) -> transition. */
class AlertEvaluatorTest {
    static final Map<String, String> SCOPE = Map.of("class", "gw", "model", "m", "version", "2");
    static final long T0 = 1_000_000;

    static AlertRule rule(long forSeconds, boolean enabled) {
        return new AlertRule("r1", "EdgefleetLatencySloBreach", AlertMetric.P95_LATENCY_MS, AlertScope.VERSION, null, null,
                null, null, null, 1, 60, forSeconds, Severity.CRITICAL, AlertAction.NONE, null, null, enabled, false);
    }

    static String fp(AlertRule r) {
        return AlertLabels.fingerprint(AlertLabels.of(r, SCOPE));
    }

    /** open state (null: none), observed value (null: no data), threshold 40, for-duration, seconds since T0 -> change (null: none). */
    static Stream<Arguments> table() {
        return Stream.of(
                Arguments.of(null, 50.0, 0, 0, Change.FIRING),
                Arguments.of(null, 50.0, 60, 0, Change.PENDING),
                Arguments.of(null, 40.0, 60, 0, null),            // at the threshold is not above it
                Arguments.of(null, 10.0, 0, 0, null),
                Arguments.of(null, null, 0, 0, null),
                Arguments.of(AlertState.PENDING, 50.0, 60, 59, null),
                Arguments.of(AlertState.PENDING, 50.0, 60, 60, Change.FIRING),
                Arguments.of(AlertState.PENDING, 10.0, 60, 30, Change.DROPPED),
                Arguments.of(AlertState.PENDING, null, 60, 30, Change.DROPPED),
                Arguments.of(AlertState.FIRING, 50.0, 60, 600, null),  // still firing: no repeat
                Arguments.of(AlertState.FIRING, 10.0, 60, 600, Change.RESOLVED),
                Arguments.of(AlertState.FIRING, null, 60, 600, Change.RESOLVED));
    }

    @ParameterizedTest(name = "{0} + value {1}, for {2}s, at +{3}s -> {4}")
    @MethodSource("table")
    void lifecycle(AlertState open, Double value, long forSeconds, long atSeconds, Change expected) {
        AlertRule r = rule(forSeconds, true);
        List<Observation> obs = value == null ? List.of() : List.of(new Observation(SCOPE, value, 40.0));
        List<Open> opened = open == null ? List.of() : List.of(new Open(fp(r), open, T0));
        List<Transition> t = AlertEvaluator.evaluate(r, obs, opened, T0 + atSeconds * 1000);
        if (expected == null) {
            assertEquals(List.of(), t);
            return;
        }
        assertEquals(1, t.size(), t.toString());
        assertEquals(expected, t.get(0).change());
        assertEquals(fp(r), t.get(0).fingerprint());
        assertEquals(open == null ? T0 + atSeconds * 1000 : T0, t.get(0).activeAt(), "activeAt is kept from the pending alert");
    }

    static final long H4 = 4 * 3600;

    /**
     * Re-notification (Alertmanager's repeat_interval): open state, observed value (null: no data), seconds since the
     * last notification (null: never notified), repeat interval in seconds (0: never) -> change (null: none).
     */
    static Stream<Arguments> repeats() {
        return Stream.of(
                Arguments.of(AlertState.FIRING, 50.0, H4, H4, Change.REPEAT),
                Arguments.of(AlertState.FIRING, 50.0, H4 + 900, H4, Change.REPEAT),     // a late pass still repeats once
                Arguments.of(AlertState.FIRING, 50.0, H4 - 1, H4, null),
                Arguments.of(AlertState.FIRING, 50.0, 10 * H4, 0L, null),               // 0: never repeat
                Arguments.of(AlertState.FIRING, 50.0, null, H4, null),                  // never notified: nothing to repeat
                Arguments.of(AlertState.FIRING, 10.0, H4, H4, Change.RESOLVED),         // resolved is sent (once: it closes)
                Arguments.of(AlertState.FIRING, null, H4, H4, Change.RESOLVED),
                Arguments.of(AlertState.PENDING, 50.0, H4, H4, Change.FIRING));         // pending fires, not repeats
    }

    @ParameterizedTest(name = "{0} + value {1}, notified {2}s ago, repeat {3}s -> {4}")
    @MethodSource("repeats")
    void repeatInterval(AlertState open, Double value, Long notifiedAgo, long repeatSeconds, Change expected) {
        AlertRule r = rule(60, true);
        long now = T0 + 20 * H4 * 1000;
        List<Observation> obs = value == null ? List.of() : List.of(new Observation(SCOPE, value, 40.0));
        Long notifiedAt = notifiedAgo == null ? null : now - notifiedAgo * 1000;
        List<Transition> t = AlertEvaluator.evaluate(r, obs, List.of(new Open(fp(r), open, T0, notifiedAt)), now,
                repeatSeconds * 1000);
        assertEquals(expected == null ? List.of() : List.of(expected), t.stream().map(Transition::change).toList());
        if (expected == Change.REPEAT) {
            assertEquals(T0, t.get(0).activeAt(), "a repeat keeps when the condition started (startsAt)");
            assertEquals(50.0, t.get(0).value(), "and carries the value observed now");
        }
    }

    @Test
    void oneAlertPerRuleAndLabelsEvenWhenObservedTwice() {
        AlertRule r = rule(0, true);
        List<Transition> t = AlertEvaluator.evaluate(r, List.of(new Observation(SCOPE, 50, 40), new Observation(SCOPE, 60, 40),
                new Observation(Map.of("class", "gw", "model", "m", "version", "3"), 50, 40)), List.of(), T0);
        assertEquals(2, t.size());
        assertEquals(Map.of("alertname", "EdgefleetLatencySloBreach", "severity", "critical", "rule", "r1", "class", "gw",
                "model", "m", "version", "2"), t.get(0).labels());
    }

    @Test
    void disabledRuleResolvesWhatFiresAndDropsWhatWaits() {
        AlertRule off = rule(60, false);
        List<Transition> t = AlertEvaluator.evaluate(off, List.of(new Observation(SCOPE, 50, 40)),
                List.of(new Open("a", AlertState.FIRING, T0), new Open("b", AlertState.PENDING, T0)), T0 + 1000);
        assertEquals(List.of(Change.RESOLVED, Change.DROPPED), t.stream().map(Transition::change).toList());
    }

    @Test
    void fingerprintsAreStableAndDistinguishLabels() {
        assertEquals(16, fp(rule(0, true)).length());
        assertEquals(fp(rule(0, true)), fp(rule(60, true)), "the for-duration is not a label");
        AlertRule other = new AlertRule("r2", "EdgefleetLatencySloBreach", AlertMetric.P95_LATENCY_MS, AlertScope.VERSION,
                null, null, null, null, null, 1, 60, 0, Severity.CRITICAL, AlertAction.NONE, null, null, true, false);
        assertEquals(false, fp(other).equals(fp(rule(0, true))));
    }
}
