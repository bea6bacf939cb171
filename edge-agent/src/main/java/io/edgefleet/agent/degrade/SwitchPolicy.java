package io.edgefleet.agent.degrade;

/**
 * When a model runs degraded, as a pure function of one telemetry window's pressure signals, the operator's
 * command and the current state (issue 12 part 5). Plain Java and tested as a table ({@code SwitchPolicyTest}).
 *
 * <ul>
 *   <li>An operator's {@code full}, {@code light} or {@code cascade} command pins the mode until the operator
 *       sends {@code auto}; pressure is ignored meanwhile.</li>
 *   <li>Under {@code auto}, a window under pressure (p95 over the class SLO, or thermal throttling) switches to the
 *       pressure mode ({@code light}, or {@code cascade} when so configured and the model is a classifier).</li>
 *   <li>Back to {@code full} only after {@code calmWindows} windows in a row without pressure (hysteresis), so a
 *       model that is fast only because it runs light does not flap back and forth.</li>
 *   <li>A window without inferences says nothing about latency: it neither counts as calm nor as pressure for the
 *       latency signal (thermal throttling still counts).</li>
 *   <li>While an update is on trial (its health watch is open) the model answers full whatever the command or the
 *       pressure: the watch judges the version that was deployed, so it must see the full model's latency, not the
 *       light variant's. The pinned mode or the policy takes over again after the commit or the rollback.</li>
 * </ul>
 */
public final class SwitchPolicy {

    /** What the operator asked for: automatic switching or a pinned mode. */
    public enum Command { AUTO, FULL, LIGHT, CASCADE }

    /**
     * One window's signals.
     *
     * @param latencyOverSlo true: p95 over the SLO; false: under it; null: no latency in the window (no inferences)
     * @param throttled      thermal throttling seen during the window
     * @param onTrial        an update of this model is on trial (its health watch is open)
     */
    public record Signals(Boolean latencyOverSlo, boolean throttled, boolean onTrial) {
        public Signals(Boolean latencyOverSlo, boolean throttled) {
            this(latencyOverSlo, throttled, false);
        }

        public boolean pressure() {
            return throttled || Boolean.TRUE.equals(latencyOverSlo);
        }

        /** A window that shows the pressure has ended: latency measured under the SLO and no throttling. */
        public boolean calm() {
            return !throttled && Boolean.FALSE.equals(latencyOverSlo);
        }
    }

    /** The policy's state: the mode in force and how many calm windows have passed in it. */
    public record State(Mode mode, int calmWindows) {
        public static final State INITIAL = new State(Mode.FULL, 0);
    }

    private final int calmWindows;
    private final Mode pressureMode;

    /**
     * @param calmWindows  calm windows in a row before going back to full (at least 1)
     * @param pressureMode the mode pressure switches to: LIGHT or CASCADE
     */
    public SwitchPolicy(int calmWindows, Mode pressureMode) {
        if (calmWindows < 1) {
            throw new IllegalArgumentException("calmWindows must be >= 1");
        }
        if (pressureMode == Mode.FULL) {
            throw new IllegalArgumentException("pressure cannot switch to full");
        }
        this.calmWindows = calmWindows;
        this.pressureMode = pressureMode;
    }

    /** The next state after one window. */
    public State next(State current, Command command, Signals signals) {
        if (signals.onTrial()) {
            return new State(Mode.FULL, 0);
        }
        switch (command) {
            case FULL -> {
                return new State(Mode.FULL, 0);
            }
            case LIGHT -> {
                return new State(Mode.LIGHT, 0);
            }
            case CASCADE -> {
                return new State(Mode.CASCADE, 0);
            }
            default -> { }
        }
        if (signals.pressure()) {
            return new State(current.mode() == Mode.FULL ? pressureMode : current.mode(), 0);
        }
        if (current.mode() == Mode.FULL) {
            return new State(Mode.FULL, 0);
        }
        if (!signals.calm()) {
            return current; // no inferences: nothing learned, the count neither grows nor resets
        }
        int calm = current.calmWindows() + 1;
        return calm >= calmWindows ? new State(Mode.FULL, 0) : new State(current.mode(), calm);
    }
}
