package io.edgefleet.server.rollout;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The deployment's wave state machine, plain Java: given what is persisted on the deployment row
 * ({@link State}), the policy, the target tally per wave ({@link Progress}) and one {@link Event}, it answers
 * the next state and what to do ({@link Decision}s, as data). It never touches a database or a broker, so the
 * service can persist its answer in the same transaction as the event and act after the commit; a server
 * that dies before acting asks again with {@link Event.Recovered} and gets the same work back.
 *
 * <p>Within a running wave the phases are DEPLOYING (commands out, waiting for every target of the wave to
 * finish or time out), SOAKING (the wave's devices run the new model for {@code soakSeconds}) and GATING
 * (telemetry gates being computed). A wave advances when its success condition held and its gates passed;
 * the abort rule is checked over every executed target after every change, paused or not.
 */
public final class WaveMachine {
    private WaveMachine() {
    }

    @Schema(description = "What the current wave is doing: DEPLOYING, SOAKING or GATING.")
    public enum Phase { DEPLOYING, SOAKING, GATING }

    /** What the deployment row holds about its progress. {@code wave} counts from 1. */
    public record State(DeploymentStatus status, int wave, int waveCount, Phase phase, long waveStartedAt,
                        Long soakStartedAt, Long pausedAt) {
        State with(DeploymentStatus s) {
            return new State(s, wave, waveCount, phase, waveStartedAt, soakStartedAt, pausedAt);
        }

        State with(Phase p, Long soakStart) {
            return new State(status, wave, waveCount, p, waveStartedAt, soakStart, pausedAt);
        }
    }

    /** Targets of one wave (or several) by where they stand. Superseded targets count in none of the rules. */
    public record Tally(long pending, long inFlight, long committed, long rolledBack, long failed, long timedOut,
                        long cancelled, long superseded) {
        public static final Tally EMPTY = new Tally(0, 0, 0, 0, 0, 0, 0, 0);

        public long open() {
            return pending + inFlight;
        }

        /** Finished one way or the other (AWS IoT Jobs' "executed things"). */
        public long executed() {
            return committed + rolledBack + failed + timedOut;
        }

        public long total() {
            return open() + executed() + cancelled;
        }

        public long failures(RolloutPolicy p) {
            return (p.countsAsFailure(TargetState.FAILED) ? failed : 0)
                    + (p.countsAsFailure(TargetState.ROLLED_BACK) ? rolledBack : 0)
                    + (p.countsAsFailure(TargetState.TIMED_OUT) ? timedOut : 0);
        }

        Tally plus(Tally o) {
            return new Tally(pending + o.pending, inFlight + o.inFlight, committed + o.committed, rolledBack + o.rolledBack,
                    failed + o.failed, timedOut + o.timedOut, cancelled + o.cancelled, superseded + o.superseded);
        }

        /** One target in {@code state}; {@code superseded} for a FAILED target a newer deployment replaced. */
        public static Tally of(TargetState state, boolean superseded, long n) {
            if (superseded) {
                return new Tally(0, 0, 0, 0, 0, 0, 0, n);
            }
            return switch (state) {
                case PENDING -> new Tally(n, 0, 0, 0, 0, 0, 0, 0);
                case SENT, DOWNLOADING, ACTIVATED -> new Tally(0, n, 0, 0, 0, 0, 0, 0);
                case COMMITTED -> new Tally(0, 0, n, 0, 0, 0, 0, 0);
                case ROLLED_BACK -> new Tally(0, 0, 0, n, 0, 0, 0, 0);
                case FAILED -> new Tally(0, 0, 0, 0, n, 0, 0, 0);
                case TIMED_OUT -> new Tally(0, 0, 0, 0, 0, n, 0, 0);
                case CANCELLED -> new Tally(0, 0, 0, 0, 0, 0, n, 0);
            };
        }
    }

    /** The tally per wave number. */
    public record Progress(Map<Integer, Tally> byWave) {
        public Progress {
            byWave = Map.copyOf(byWave);
        }

        public Tally wave(int n) {
            return byWave.getOrDefault(n, Tally.EMPTY);
        }

        /** Waves 1..n together (late joiners may sit in earlier waves). */
        public Tally upTo(int n) {
            Tally t = Tally.EMPTY;
            for (Map.Entry<Integer, Tally> e : new TreeMap<>(byWave).entrySet()) {
                if (e.getKey() <= n) {
                    t = t.plus(e.getValue());
                }
            }
            return t;
        }

        public Tally all() {
            return upTo(Integer.MAX_VALUE);
        }
    }

    /** One telemetry gate's verdict over a soak; {@code evaluated} is false when no telemetry carried the metric. */
    public record GateResult(String gate, boolean evaluated, boolean breached, Double observed, Double limit,
                             Double baseline, long windows, long devices) {
        String describe() {
            if (!evaluated) {
                return gate + ": not evaluated (no telemetry carries it)";
            }
            return String.format(Locale.ROOT, "%s: observed %s, limit %s, baseline %s over %d window(s) of %d device(s)%s",
                    gate, fmt(observed), fmt(limit), fmt(baseline), windows, devices, breached ? " - BREACHED" : "");
        }

        private static String fmt(Double d) {
            return d == null ? "n/a" : String.format(Locale.ROOT, "%.4g", d);
        }
    }

    public sealed interface Event {
        /** A target moved (device event, timeout, supersede): re-check the rules. */
        record TargetsChanged() implements Event {
        }

        /** Time passed: soak elapsed? */
        record Tick() implements Event {
        }

        record GatesEvaluated(int wave, List<GateResult> results) implements Event {
        }

        record Pause() implements Event {
        }

        record Resume() implements Event {
        }

        record Abort(String reason) implements Event {
        }

        /** A device matching the target connected and is not a target yet. */
        record DeviceJoined(String deviceId) implements Event {
        }

        /** The server (re)started: hand back the work a crash may have lost. */
        record Recovered() implements Event {
        }
    }

    public sealed interface Decision {
        /** Send the deploy command to every PENDING target of waves 1..wave. */
        record DispatchWave(int wave) implements Decision {
        }

        /** Make the device a target in {@code wave}; send it the command now when {@code dispatch}. */
        record AddTarget(String deviceId, int wave, boolean dispatch) implements Decision {
        }

        /** Compute the gates from telemetry of the wave's devices over [fromMs, toMs] and report GatesEvaluated. */
        record EvaluateGates(int wave, long fromMs, long toMs) implements Decision {
        }

        /** Halt: targets not yet activated end CANCELLED; every device that activated gets a ROLLBACK command. */
        record Halt(String rule, String detail) implements Decision {
        }

        /** Re-send ROLLBACK commands that a halt decided but the broker never acknowledged. */
        record ResendRollbacks() implements Decision {
        }

        /** The request cannot apply in this state (answered as 409). */
        record Refuse(String reason) implements Decision {
        }
    }

    public record Step(State state, List<Decision> decisions) {
    }

    /** A new deployment: wave 1 (the canary) goes out at once. */
    public static Step start(int waveCount, long now) {
        State s = new State(DeploymentStatus.IN_PROGRESS, 1, waveCount, Phase.DEPLOYING, now, null, null);
        return new Step(s, List.of(new Decision.DispatchWave(1)));
    }

    public static Step apply(State s, RolloutPolicy p, Progress progress, Event event, long now) {
        List<Decision> out = new ArrayList<>();
        State next;
        if (event instanceof Event.Pause) {
            if (s.status() != DeploymentStatus.IN_PROGRESS) {
                out.add(new Decision.Refuse("a " + s.status() + " deployment cannot be paused"));
                next = s;
            } else {
                next = new State(DeploymentStatus.PAUSED, s.wave(), s.waveCount(), s.phase(), s.waveStartedAt(),
                        s.soakStartedAt(), now);
            }
        } else if (event instanceof Event.Resume) {
            if (s.status() != DeploymentStatus.PAUSED) {
                out.add(new Decision.Refuse("a " + s.status() + " deployment cannot be resumed"));
                next = s;
            } else {
                State resumed = new State(DeploymentStatus.IN_PROGRESS, s.wave(), s.waveCount(), s.phase(),
                        s.waveStartedAt(), s.soakStartedAt(), null);
                // Targets held back while paused (joiners, devices that came online) go now.
                if (resumed.phase() == Phase.DEPLOYING) {
                    out.add(new Decision.DispatchWave(resumed.wave()));
                } else if (resumed.phase() == Phase.GATING) {
                    out.add(new Decision.EvaluateGates(resumed.wave(), resumed.soakStartedAt(), now));
                }
                next = advance(resumed, p, progress, now, out);
            }
        } else if (event instanceof Event.Abort a) {
            if (s.status().terminal()) {
                out.add(new Decision.Refuse("a " + s.status() + " deployment cannot be aborted"));
                next = s;
            } else {
                next = halt(s, "operator", "aborted by the operator: " + a.reason(), out);
            }
        } else if (event instanceof Event.DeviceJoined j) {
            switch (s.status()) {
                case IN_PROGRESS -> out.add(new Decision.AddTarget(j.deviceId(), s.wave(), true));
                case PAUSED -> out.add(new Decision.AddTarget(j.deviceId(), s.wave(), false));
                // A finished deployment is the class's current model: a newcomer gets it too.
                case COMPLETED, PARTIAL -> out.add(new Decision.AddTarget(j.deviceId(), s.waveCount(), true));
                default -> {
                    // halted or rolled back: nobody gets it any more
                }
            }
            next = s;
        } else if (event instanceof Event.Recovered) {
            switch (s.status()) {
                case IN_PROGRESS -> {
                    if (s.phase() == Phase.DEPLOYING) {
                        out.add(new Decision.DispatchWave(s.wave()));
                    } else if (s.phase() == Phase.GATING) {
                        out.add(new Decision.EvaluateGates(s.wave(), s.soakStartedAt(), now));
                    }
                }
                case ABORTED, ROLLED_BACK -> out.add(new Decision.ResendRollbacks());
                default -> {
                    // PAUSED waits for the operator; finished deployments need nothing
                }
            }
            next = advance(s, p, progress, now, out);
        } else if (event instanceof Event.GatesEvaluated g) {
            if (s.status() != DeploymentStatus.IN_PROGRESS || s.phase() != Phase.GATING || g.wave() != s.wave()) {
                next = s; // stale: paused, halted or already past this wave
            } else {
                List<GateResult> breached = g.results().stream().filter(GateResult::breached).toList();
                if (!breached.isEmpty()) {
                    StringBuilder detail = new StringBuilder("wave " + s.wave() + " of " + s.waveCount() + ": ");
                    for (int i = 0; i < g.results().size(); i++) {
                        detail.append(i == 0 ? "" : "; ").append(g.results().get(i).describe());
                    }
                    next = halt(s, "gate:" + breached.get(0).gate(), detail.toString(), out);
                } else {
                    next = nextWave(s, progress, now, out);
                }
            }
        } else if (event instanceof Event.TargetsChanged || event instanceof Event.Tick) {
            next = advance(s, p, progress, now, out);
        } else {
            throw new IllegalArgumentException("unknown event " + event);
        }
        return new Step(next, List.copyOf(out));
    }

    /** Applies the rules until nothing changes: abort rule, wave finished, soak elapsed. */
    private static State advance(State s, RolloutPolicy p, Progress progress, long now, List<Decision> out) {
        if (s.status() != DeploymentStatus.IN_PROGRESS && s.status() != DeploymentStatus.PAUSED) {
            return s;
        }
        Tally all = progress.all();
        if (p.abort() != null && all.executed() >= p.abort().minNumberOfExecutedThings()) {
            long failures = all.failures(p);
            double pct = 100.0 * failures / all.executed();
            if (failures > 0 && pct >= p.abort().thresholdPercentage()) {
                return halt(s, "abortConfig", String.format(Locale.ROOT,
                        "%d of %d executed target(s) failed (%.1f%% >= thresholdPercentage %.1f%%, failureTypes %s,"
                                + " minNumberOfExecutedThings %d): %d failed, %d rolled back, %d timed out",
                        failures, all.executed(), pct, p.abort().thresholdPercentage(), p.abort().failureTypes(),
                        p.abort().minNumberOfExecutedThings(), all.failed(), all.rolledBack(), all.timedOut()), out);
            }
        }
        if (s.status() == DeploymentStatus.PAUSED) {
            return s;
        }
        State cur = s;
        for (int guard = 0; guard < 3 * (s.waveCount() + 1); guard++) {
            State before = cur;
            switch (cur.phase()) {
                case DEPLOYING -> {
                    Tally w = progress.upTo(cur.wave());
                    if (w.open() > 0) {
                        return cur;
                    }
                    Tally wave = progress.wave(cur.wave());
                    long counted = wave.executed();
                    double committedPct = counted == 0 ? 100.0 : 100.0 * wave.committed() / counted;
                    double min = p.successCondition().minCommittedPercent();
                    if (committedPct < min) {
                        return halt(cur, "successCondition", String.format(Locale.ROOT,
                                "wave %d of %d finished with %d of %d target(s) committed (%.1f%% < minCommittedPercent"
                                        + " %.1f%%): %d failed, %d rolled back, %d timed out", cur.wave(), cur.waveCount(),
                                wave.committed(), counted, committedPct, min, wave.failed(), wave.rolledBack(),
                                wave.timedOut()), out);
                    }
                    cur = cur.with(Phase.SOAKING, now);
                }
                case SOAKING -> {
                    if (now < cur.soakStartedAt() + p.soakSeconds() * 1000) {
                        return cur;
                    }
                    if (p.gatesEnabled() && progress.wave(cur.wave()).committed() > 0) {
                        out.add(new Decision.EvaluateGates(cur.wave(), cur.soakStartedAt(), now));
                        return cur.with(Phase.GATING, cur.soakStartedAt());
                    }
                    cur = nextWave(cur, progress, now, out);
                }
                case GATING -> {
                    return cur;
                }
            }
            if (cur.status() != DeploymentStatus.IN_PROGRESS || cur.equals(before)) {
                return cur;
            }
        }
        return cur;
    }

    private static State nextWave(State s, Progress progress, long now, List<Decision> out) {
        if (s.wave() >= s.waveCount()) {
            Map<TargetState, Long> counts = new java.util.EnumMap<>(TargetState.class);
            Tally t = progress.all();
            counts.put(TargetState.COMMITTED, t.committed());
            counts.put(TargetState.ROLLED_BACK, t.rolledBack());
            counts.put(TargetState.FAILED, t.failed() + t.superseded());
            counts.put(TargetState.TIMED_OUT, t.timedOut());
            return new State(RolloutRules.status(counts, false), s.wave(), s.waveCount(), s.phase(), s.waveStartedAt(),
                    s.soakStartedAt(), null);
        }
        out.add(new Decision.DispatchWave(s.wave() + 1));
        return new State(DeploymentStatus.IN_PROGRESS, s.wave() + 1, s.waveCount(), Phase.DEPLOYING, now, null, null);
    }

    private static State halt(State s, String rule, String detail, List<Decision> out) {
        out.add(new Decision.Halt(rule, detail));
        return new State(DeploymentStatus.ABORTED, s.wave(), s.waveCount(), s.phase(), s.waveStartedAt(),
                s.soakStartedAt(), null);
    }
}
