package io.edgefleet.agent.degrade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.edgefleet.agent.degrade.SwitchPolicy.Command;
import io.edgefleet.agent.degrade.SwitchPolicy.Signals;
import io.edgefleet.agent.degrade.SwitchPolicy.State;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The switch policy as a table: pressure signals × command × current state → next state, with hysteresis. */
class SwitchPolicyTest {
    static final Signals SLOW = new Signals(true, false);
    static final Signals HOT = new Signals(false, true);
    static final Signals SLOW_HOT = new Signals(true, true);
    static final Signals CALM = new Signals(false, false);
    static final Signals IDLE = new Signals(null, false);
    static final Signals IDLE_HOT = new Signals(null, true);
    static final Signals TRIAL_SLOW_HOT = new Signals(true, true, true);
    static final Signals TRIAL_CALM = new Signals(false, false, true);

    static State s(Mode m, int calm) {
        return new State(m, calm);
    }

    static Stream<Arguments> table() {
        return Stream.of(
                // auto, from full: pressure of either kind switches, calm or idle stays
                Arguments.of(s(Mode.FULL, 0), Command.AUTO, SLOW, s(Mode.LIGHT, 0)),
                Arguments.of(s(Mode.FULL, 0), Command.AUTO, HOT, s(Mode.LIGHT, 0)),
                Arguments.of(s(Mode.FULL, 0), Command.AUTO, SLOW_HOT, s(Mode.LIGHT, 0)),
                Arguments.of(s(Mode.FULL, 0), Command.AUTO, IDLE_HOT, s(Mode.LIGHT, 0)),
                Arguments.of(s(Mode.FULL, 0), Command.AUTO, CALM, s(Mode.FULL, 0)),
                Arguments.of(s(Mode.FULL, 0), Command.AUTO, IDLE, s(Mode.FULL, 0)),
                // auto, degraded: calm windows count up to 3, pressure resets the count, idle windows count nothing
                Arguments.of(s(Mode.LIGHT, 0), Command.AUTO, CALM, s(Mode.LIGHT, 1)),
                Arguments.of(s(Mode.LIGHT, 1), Command.AUTO, CALM, s(Mode.LIGHT, 2)),
                Arguments.of(s(Mode.LIGHT, 2), Command.AUTO, CALM, s(Mode.FULL, 0)),
                Arguments.of(s(Mode.LIGHT, 2), Command.AUTO, SLOW, s(Mode.LIGHT, 0)),
                Arguments.of(s(Mode.LIGHT, 2), Command.AUTO, HOT, s(Mode.LIGHT, 0)),
                Arguments.of(s(Mode.LIGHT, 2), Command.AUTO, IDLE, s(Mode.LIGHT, 2)),
                Arguments.of(s(Mode.LIGHT, 1), Command.AUTO, IDLE_HOT, s(Mode.LIGHT, 0)),
                Arguments.of(s(Mode.CASCADE, 2), Command.AUTO, CALM, s(Mode.FULL, 0)),
                Arguments.of(s(Mode.CASCADE, 0), Command.AUTO, SLOW, s(Mode.CASCADE, 0)),
                // a pinned mode holds whatever the signals say
                Arguments.of(s(Mode.LIGHT, 1), Command.FULL, SLOW_HOT, s(Mode.FULL, 0)),
                Arguments.of(s(Mode.FULL, 0), Command.FULL, SLOW, s(Mode.FULL, 0)),
                Arguments.of(s(Mode.FULL, 0), Command.LIGHT, CALM, s(Mode.LIGHT, 0)),
                Arguments.of(s(Mode.LIGHT, 2), Command.LIGHT, CALM, s(Mode.LIGHT, 0)),
                Arguments.of(s(Mode.FULL, 0), Command.CASCADE, IDLE, s(Mode.CASCADE, 0)),
                Arguments.of(s(Mode.LIGHT, 0), Command.CASCADE, HOT, s(Mode.CASCADE, 0)),
                // an update on trial answers full, so its health watch judges the full model's latency
                Arguments.of(s(Mode.FULL, 0), Command.AUTO, TRIAL_SLOW_HOT, s(Mode.FULL, 0)),
                Arguments.of(s(Mode.LIGHT, 1), Command.AUTO, TRIAL_SLOW_HOT, s(Mode.FULL, 0)),
                Arguments.of(s(Mode.LIGHT, 0), Command.LIGHT, TRIAL_CALM, s(Mode.FULL, 0)),
                Arguments.of(s(Mode.CASCADE, 0), Command.CASCADE, TRIAL_SLOW_HOT, s(Mode.FULL, 0)),
                // and the pin takes over again once the trial is decided
                Arguments.of(s(Mode.FULL, 0), Command.LIGHT, CALM, s(Mode.LIGHT, 0)));
    }

    @ParameterizedTest(name = "{0} + {1} + {2} -> {3}")
    @MethodSource("table")
    void nextState(State current, Command command, Signals signals, State expected) {
        assertEquals(expected, new SwitchPolicy(3, Mode.LIGHT).next(current, command, signals));
    }

    @Test
    void pressureModeCascadeSwitchesFullToCascade() {
        SwitchPolicy p = new SwitchPolicy(1, Mode.CASCADE);
        State st = p.next(State.INITIAL, Command.AUTO, HOT);
        assertEquals(s(Mode.CASCADE, 0), st);
        assertEquals(s(Mode.FULL, 0), p.next(st, Command.AUTO, CALM), "one calm window is enough with calmWindows 1");
    }

    @Test
    void hysteresisOverASequenceOfWindows() {
        SwitchPolicy p = new SwitchPolicy(2, Mode.LIGHT);
        List<Signals> windows = List.of(CALM, SLOW, CALM, SLOW, CALM, IDLE, CALM, CALM);
        List<Mode> expected = List.of(Mode.FULL, Mode.LIGHT, Mode.LIGHT, Mode.LIGHT, Mode.LIGHT, Mode.LIGHT, Mode.FULL,
                Mode.FULL);
        State st = State.INITIAL;
        for (int i = 0; i < windows.size(); i++) {
            st = p.next(st, Command.AUTO, windows.get(i));
            assertEquals(expected.get(i), st.mode(), "after window " + i);
        }
    }

    @Test
    void refusesSettingsThatCannotWork() {
        assertThrows(IllegalArgumentException.class, () -> new SwitchPolicy(0, Mode.LIGHT));
        assertThrows(IllegalArgumentException.class, () -> new SwitchPolicy(2, Mode.FULL));
    }
}
