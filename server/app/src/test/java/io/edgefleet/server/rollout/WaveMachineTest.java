package io.edgefleet.server.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.server.rollout.WaveMachine.Decision;
import io.edgefleet.server.rollout.WaveMachine.Event;
import io.edgefleet.server.rollout.WaveMachine.GateResult;
import io.edgefleet.server.rollout.WaveMachine.Phase;
import io.edgefleet.server.rollout.WaveMachine.Progress;
import io.edgefleet.server.rollout.WaveMachine.State;
import io.edgefleet.server.rollout.WaveMachine.Step;
import io.edgefleet.server.rollout.WaveMachine.Tally;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The wave state machine as a table: every state x every event, each row the next state and the decisions.
 * The fixture is a deployment of five targets in three waves (canary 1, batches of 2), soak 10 s, gates on,
 * abort at 50% failures after one executed target; "now" is 1 s into the state unless the row says otherwise.
 * Then a crash point in every state: the state persisted to the deployment row and read back must answer
 * every event the same way, and the Recovered event a restarted server sends must hand back exactly the
 * work the state may have lost.
 */
class WaveMachineTest {
    static final long T0 = 1_000_000;
    static final long SOAK_MS = 10_000;
    static final RolloutPolicy POLICY = new RolloutPolicy(new RolloutPolicy.Canary(1, null),
            new RolloutPolicy.Batches(2, null, null, null), 10L, new RolloutPolicy.SuccessCondition(100.0),
            new RolloutPolicy.Gates(true, 0.05, true, null, 10.0, 1),
            new RolloutPolicy.Abort(List.of(RolloutPolicy.FailureType.ALL), 1, 50.0), 600L).resolved();

    // --- the states (what the deployment row holds) and a progress that fits each ---

    static State running(int wave, Phase phase) {
        return new State(DeploymentStatus.IN_PROGRESS, wave, 3, phase, T0, phase == Phase.DEPLOYING ? null : T0, null);
    }

    static State paused(Phase phase) {
        return new State(DeploymentStatus.PAUSED, 1, 3, phase, T0, phase == Phase.DEPLOYING ? null : T0, T0);
    }

    static State finished(DeploymentStatus status) {
        return new State(status, 3, 3, Phase.SOAKING, T0, T0, null);
    }

    static Tally t(long pending, long inFlight, long committed, long rolledBack, long failed, long timedOut, long cancelled) {
        return new Tally(pending, inFlight, committed, rolledBack, failed, timedOut, cancelled, 0);
    }

    /** Canary in flight; waves 2 and 3 pending. */
    static final Progress CANARY_IN_FLIGHT = new Progress(Map.of(1, t(0, 1, 0, 0, 0, 0, 0), 2, t(2, 0, 0, 0, 0, 0, 0),
            3, t(2, 0, 0, 0, 0, 0, 0)));
    /** Canary committed; waves 2 and 3 pending. */
    static final Progress CANARY_DONE = new Progress(Map.of(1, t(0, 0, 1, 0, 0, 0, 0), 2, t(2, 0, 0, 0, 0, 0, 0),
            3, t(2, 0, 0, 0, 0, 0, 0)));
    /** Canary rolled back by the device itself (a failure: 1 of 1 executed). */
    static final Progress CANARY_ROLLED_BACK = new Progress(Map.of(1, t(0, 0, 0, 1, 0, 0, 0), 2, t(2, 0, 0, 0, 0, 0, 0),
            3, t(2, 0, 0, 0, 0, 0, 0)));
    static final Progress ALL_COMMITTED = new Progress(Map.of(1, t(0, 0, 1, 0, 0, 0, 0), 2, t(0, 0, 2, 0, 0, 0, 0),
            3, t(0, 0, 2, 0, 0, 0, 0)));

    record Row(String state, State s, Progress progress, Event event, long nowOffset,
               String expectStatus, String expectPhase, int expectWave, String expectDecisions) {
        @Override
        public String toString() {
            return state + " x " + event.getClass().getSimpleName() + (nowOffset != 1000 ? " @+" + nowOffset + "ms" : "");
        }
    }

    static final GateResult PASS = new GateResult("p95LatencyMs", true, false, 5.0, 10.0, 4.0, 3, 1);
    static final GateResult BREACH = new GateResult("p95LatencyMs", true, true, 50.0, 10.0, 4.0, 3, 1);

    /** Every state with every event. */
    static Stream<Row> table() {
        List<Row> rows = new ArrayList<>();
        Map<String, State> states = states();
        Map<String, Progress> fits = new LinkedHashMap<>();
        fits.put("RUNNING(1)/DEPLOYING", CANARY_IN_FLIGHT);
        fits.put("RUNNING(1)/SOAKING", CANARY_DONE);
        fits.put("RUNNING(1)/GATING", CANARY_DONE);
        fits.put("PAUSED/DEPLOYING", CANARY_IN_FLIGHT);
        fits.put("PAUSED/SOAKING", CANARY_DONE);
        fits.put("PAUSED/GATING", CANARY_DONE);
        for (String f : List.of("COMPLETED", "PARTIAL", "ROLLED_BACK", "FAILED", "ABORTED", "TIMED_OUT")) {
            fits.put(f, ALL_COMMITTED);
        }
        // expected: status, phase, wave, decisions for each event in this order:
        // TargetsChanged, Tick, GatesEvaluated(pass), GatesEvaluated(breach), Pause, Resume, Abort, DeviceJoined, Recovered
        Map<String, String[][]> expect = new LinkedHashMap<>();
        expect.put("RUNNING(1)/DEPLOYING", new String[][] {
                {"IN_PROGRESS", "DEPLOYING", "1", ""},
                {"IN_PROGRESS", "DEPLOYING", "1", ""},
                {"IN_PROGRESS", "DEPLOYING", "1", ""}, // stale gate verdict: ignored
                {"IN_PROGRESS", "DEPLOYING", "1", ""},
                {"PAUSED", "DEPLOYING", "1", ""},
                {"IN_PROGRESS", "DEPLOYING", "1", "Refuse"},
                {"ABORTED", "DEPLOYING", "1", "Halt(operator)"},
                {"IN_PROGRESS", "DEPLOYING", "1", "AddTarget(late,1,true)"},
                {"IN_PROGRESS", "DEPLOYING", "1", "DispatchWave(1)"}});
        expect.put("RUNNING(1)/SOAKING", new String[][] {
                {"IN_PROGRESS", "SOAKING", "1", ""},
                {"IN_PROGRESS", "SOAKING", "1", ""},
                {"IN_PROGRESS", "SOAKING", "1", ""},
                {"IN_PROGRESS", "SOAKING", "1", ""},
                {"PAUSED", "SOAKING", "1", ""},
                {"IN_PROGRESS", "SOAKING", "1", "Refuse"},
                {"ABORTED", "SOAKING", "1", "Halt(operator)"},
                {"IN_PROGRESS", "SOAKING", "1", "AddTarget(late,1,true)"},
                {"IN_PROGRESS", "SOAKING", "1", ""}});
        expect.put("RUNNING(1)/GATING", new String[][] {
                {"IN_PROGRESS", "GATING", "1", ""},
                {"IN_PROGRESS", "GATING", "1", ""},
                {"IN_PROGRESS", "DEPLOYING", "2", "DispatchWave(2)"},
                {"ABORTED", "GATING", "1", "Halt(gate:p95LatencyMs)"},
                {"PAUSED", "GATING", "1", ""},
                {"IN_PROGRESS", "GATING", "1", "Refuse"},
                {"ABORTED", "GATING", "1", "Halt(operator)"},
                {"IN_PROGRESS", "GATING", "1", "AddTarget(late,1,true)"},
                {"IN_PROGRESS", "GATING", "1", "EvaluateGates(1)"}});
        expect.put("PAUSED/DEPLOYING", new String[][] {
                {"PAUSED", "DEPLOYING", "1", ""},
                {"PAUSED", "DEPLOYING", "1", ""},
                {"PAUSED", "DEPLOYING", "1", ""},
                {"PAUSED", "DEPLOYING", "1", ""},
                {"PAUSED", "DEPLOYING", "1", "Refuse"},
                {"IN_PROGRESS", "DEPLOYING", "1", "DispatchWave(1)"},
                {"ABORTED", "DEPLOYING", "1", "Halt(operator)"},
                {"PAUSED", "DEPLOYING", "1", "AddTarget(late,1,false)"},
                {"PAUSED", "DEPLOYING", "1", ""}});
        expect.put("PAUSED/SOAKING", new String[][] {
                {"PAUSED", "SOAKING", "1", ""},
                {"PAUSED", "SOAKING", "1", ""},
                {"PAUSED", "SOAKING", "1", ""},
                {"PAUSED", "SOAKING", "1", ""},
                {"PAUSED", "SOAKING", "1", "Refuse"},
                {"IN_PROGRESS", "SOAKING", "1", ""},
                {"ABORTED", "SOAKING", "1", "Halt(operator)"},
                {"PAUSED", "SOAKING", "1", "AddTarget(late,1,false)"},
                {"PAUSED", "SOAKING", "1", ""}});
        expect.put("PAUSED/GATING", new String[][] {
                {"PAUSED", "GATING", "1", ""},
                {"PAUSED", "GATING", "1", ""},
                {"PAUSED", "GATING", "1", ""}, // a verdict arriving while paused is dropped; resume asks again
                {"PAUSED", "GATING", "1", ""},
                {"PAUSED", "GATING", "1", "Refuse"},
                {"IN_PROGRESS", "GATING", "1", "EvaluateGates(1)"},
                {"ABORTED", "GATING", "1", "Halt(operator)"},
                {"PAUSED", "GATING", "1", "AddTarget(late,1,false)"},
                {"PAUSED", "GATING", "1", ""}});
        for (String f : List.of("COMPLETED", "PARTIAL")) {
            expect.put(f, finishedRow(f, "AddTarget(late,3,true)", ""));
        }
        expect.put("ROLLED_BACK", finishedRow("ROLLED_BACK", "", "ResendRollbacks"));
        expect.put("FAILED", finishedRow("FAILED", "", ""));
        expect.put("ABORTED", finishedRow("ABORTED", "", "ResendRollbacks"));
        expect.put("TIMED_OUT", finishedRow("TIMED_OUT", "", ""));

        List<Event> events = List.of(new Event.TargetsChanged(), new Event.Tick(),
                new Event.GatesEvaluated(1, List.of(PASS)), new Event.GatesEvaluated(1, List.of(BREACH)),
                new Event.Pause(), new Event.Resume(), new Event.Abort("test"), new Event.DeviceJoined("late"),
                new Event.Recovered());
        for (Map.Entry<String, State> e : states.entrySet()) {
            String[][] ex = expect.get(e.getKey());
            for (int i = 0; i < events.size(); i++) {
                rows.add(new Row(e.getKey(), e.getValue(), fits.get(e.getKey()), events.get(i), 1000,
                        ex[i][0], ex[i][1], Integer.parseInt(ex[i][2]), ex[i][3]));
            }
        }
        return rows.stream();
    }

    static String[][] finishedRow(String status, String joined, String recovered) {
        String[][] r = new String[9][];
        for (int i = 0; i < 9; i++) {
            r[i] = new String[] {status, "SOAKING", "3", ""};
        }
        r[4][3] = "Refuse";
        r[5][3] = "Refuse";
        r[6][3] = "Refuse";
        r[7][3] = joined;
        r[8][3] = recovered;
        return r;
    }

    static Map<String, State> states() {
        Map<String, State> s = new LinkedHashMap<>();
        s.put("RUNNING(1)/DEPLOYING", running(1, Phase.DEPLOYING));
        s.put("RUNNING(1)/SOAKING", running(1, Phase.SOAKING));
        s.put("RUNNING(1)/GATING", running(1, Phase.GATING));
        s.put("PAUSED/DEPLOYING", paused(Phase.DEPLOYING));
        s.put("PAUSED/SOAKING", paused(Phase.SOAKING));
        s.put("PAUSED/GATING", paused(Phase.GATING));
        for (DeploymentStatus f : List.of(DeploymentStatus.COMPLETED, DeploymentStatus.PARTIAL, DeploymentStatus.ROLLED_BACK,
                DeploymentStatus.FAILED, DeploymentStatus.ABORTED, DeploymentStatus.TIMED_OUT)) {
            s.put(f.name(), finished(f));
        }
        return s;
    }

    @Test
    void theTableCoversEveryStatusAndEveryEvent() {
        var statuses = table().map(r -> r.s().status()).collect(Collectors.toSet());
        for (DeploymentStatus st : DeploymentStatus.values()) {
            assertTrue(statuses.contains(st), "no row for " + st);
        }
        var eventKinds = table().map(r -> r.event().getClass()).collect(Collectors.toSet());
        assertEquals(Event.class.getPermittedSubclasses().length, eventKinds.size(), "every event kind has rows");
        for (Phase p : Phase.values()) {
            assertTrue(table().anyMatch(r -> r.s().status() == DeploymentStatus.IN_PROGRESS && r.s().phase() == p));
            assertTrue(table().anyMatch(r -> r.s().status() == DeploymentStatus.PAUSED && r.s().phase() == p));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void everyStateAndEvent(Row row) {
        Step step = WaveMachine.apply(row.s(), POLICY, row.progress(), row.event(), T0 + row.nowOffset());
        assertEquals(row.expectStatus(), step.state().status().name(), "status");
        assertEquals(row.expectPhase(), step.state().phase().name(), "phase");
        assertEquals(row.expectWave(), step.state().wave(), "wave");
        assertEquals(row.expectDecisions(), render(step.decisions()), "decisions");
    }

    // --- transitions driven by progress and time ---

    static Stream<Arguments> progressRows() {
        return Stream.of(
                // the canary committed: soak starts
                Arguments.of("canary committed", running(1, Phase.DEPLOYING), CANARY_DONE, 1000L,
                        "IN_PROGRESS", "SOAKING", 1, ""),
                // the canary rolled back on its own: 1 of 1 executed failed >= 50% -> halt
                Arguments.of("canary rolled back", running(1, Phase.DEPLOYING), CANARY_ROLLED_BACK, 1000L,
                        "ABORTED", "DEPLOYING", 1, "Halt(abortConfig)"),
                // a timed-out canary is a failure too
                Arguments.of("canary timed out", running(1, Phase.DEPLOYING), new Progress(Map.of(1, t(0, 0, 0, 0, 0, 1, 0),
                        2, t(2, 0, 0, 0, 0, 0, 0))), 1000L, "ABORTED", "DEPLOYING", 1, "Halt(abortConfig)"),
                // soak elapsed: gates are asked for
                Arguments.of("soak elapsed", running(1, Phase.SOAKING), CANARY_DONE, SOAK_MS,
                        "IN_PROGRESS", "GATING", 1, "EvaluateGates(1)"),
                // soak not elapsed
                Arguments.of("soak running", running(1, Phase.SOAKING), CANARY_DONE, SOAK_MS - 1,
                        "IN_PROGRESS", "SOAKING", 1, ""),
                // the last wave done and soaked, gates pass -> asked; all committed
                Arguments.of("last wave soaked", running(3, Phase.SOAKING), ALL_COMMITTED, SOAK_MS,
                        "IN_PROGRESS", "GATING", 3, "EvaluateGates(3)"),
                // abort rule still checked while paused
                Arguments.of("paused, canary rolled back", paused(Phase.DEPLOYING), CANARY_ROLLED_BACK, 1000L,
                        "ABORTED", "DEPLOYING", 1, "Halt(abortConfig)"),
                // a paused deployment does not start its soak or next wave
                Arguments.of("paused, canary committed", paused(Phase.DEPLOYING), CANARY_DONE, 1000L,
                        "PAUSED", "DEPLOYING", 1, ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("progressRows")
    void progressAndTime(String name, State s, Progress p, long nowOffset, String status, String phase, int wave,
                         String decisions) {
        Step step = WaveMachine.apply(s, POLICY, p, new Event.Tick(), T0 + nowOffset);
        assertEquals(status, step.state().status().name());
        assertEquals(phase, step.state().phase().name());
        assertEquals(wave, step.state().wave());
        assertEquals(decisions, render(step.decisions()));
    }

    @Test
    void theSuccessConditionHaltsAWaveThatFinishedShortOfIt() {
        RolloutPolicy lenientAbort = new RolloutPolicy(POLICY.canary(), POLICY.batches(), 10L,
                new RolloutPolicy.SuccessCondition(100.0), POLICY.gates(),
                new RolloutPolicy.Abort(List.of(RolloutPolicy.FailureType.FAILED), 10, 100.0), 600L).resolved();
        Progress oneOfTwoFailed = new Progress(Map.of(1, t(0, 0, 1, 0, 0, 0, 0), 2, t(0, 0, 1, 0, 1, 0, 0),
                3, t(2, 0, 0, 0, 0, 0, 0)));
        Step step = WaveMachine.apply(running(2, Phase.DEPLOYING), lenientAbort, oneOfTwoFailed, new Event.TargetsChanged(),
                T0 + 1000);
        assertEquals(DeploymentStatus.ABORTED, step.state().status());
        Decision.Halt halt = (Decision.Halt) step.decisions().get(0);
        assertEquals("successCondition", halt.rule());
        assertTrue(halt.detail().contains("1 of 2 target(s) committed (50.0% < minCommittedPercent 100.0%)"), halt.detail());
    }

    @Test
    void theAllAtOncePolicyEndsWithTheCountsLikeBeforeWaves() {
        RolloutPolicy legacy = RolloutPolicy.everyTargetAtOnce();
        State s = WaveMachine.start(1, T0).state();
        Progress allRolledBack = new Progress(Map.of(1, t(0, 0, 0, 3, 0, 0, 0)));
        assertEquals(DeploymentStatus.ROLLED_BACK,
                WaveMachine.apply(s, legacy, allRolledBack, new Event.TargetsChanged(), T0).state().status());
        Progress mixed = new Progress(Map.of(1, t(0, 0, 2, 0, 1, 0, 0)));
        assertEquals(DeploymentStatus.PARTIAL, WaveMachine.apply(s, legacy, mixed, new Event.TargetsChanged(), T0).state().status());
        Progress timedOut = new Progress(Map.of(1, t(0, 0, 0, 0, 0, 2, 0)));
        assertEquals(DeploymentStatus.TIMED_OUT,
                WaveMachine.apply(s, legacy, timedOut, new Event.TargetsChanged(), T0).state().status());
        Progress all = new Progress(Map.of(1, t(0, 0, 3, 0, 0, 0, 0)));
        assertEquals(DeploymentStatus.COMPLETED, WaveMachine.apply(s, legacy, all, new Event.TargetsChanged(), T0).state().status());
    }

    // --- crash points ---

    /** The deployment row as the server persists it, and the state a restarted server reads back from it. */
    static State persistAndRestore(State s) {
        DeploymentEntity row = new DeploymentEntity();
        row.createdAt = T0 - 5000;
        row.apply(s, T0);
        DeploymentEntity reread = new DeploymentEntity();
        reread.createdAt = row.createdAt;
        reread.status = row.status;
        reread.waveCurrent = row.waveCurrent;
        reread.waveCount = row.waveCount;
        reread.wavePhase = row.wavePhase;
        reread.waveStartedAt = row.waveStartedAt;
        reread.soakStartedAt = row.soakStartedAt;
        reread.pausedAt = row.pausedAt;
        return reread.machineState();
    }

    /** What a server killed in each state may have lost, and so must get back from Recovered. */
    static final Map<String, String> LOST_WORK = Map.ofEntries(
            Map.entry("RUNNING(1)/DEPLOYING", "DispatchWave(1)"), // commands not yet acknowledged
            Map.entry("RUNNING(1)/SOAKING", ""), // the soak clock is persisted; ticks carry on
            Map.entry("RUNNING(1)/GATING", "EvaluateGates(1)"), // the evaluation ran in memory
            Map.entry("PAUSED/DEPLOYING", ""), Map.entry("PAUSED/SOAKING", ""), Map.entry("PAUSED/GATING", ""),
            Map.entry("COMPLETED", ""), Map.entry("PARTIAL", ""), Map.entry("FAILED", ""), Map.entry("TIMED_OUT", ""),
            Map.entry("ROLLED_BACK", "ResendRollbacks"), Map.entry("ABORTED", "ResendRollbacks")); // rollbacks in flight

    @Test
    void aServerKilledInAnyStateResumesWithTheSameDecisions() {
        Map<String, State> states = states();
        assertEquals(states.keySet(), LOST_WORK.keySet(), "a crash point for every state");
        for (Map.Entry<String, State> e : states.entrySet()) {
            State restored = persistAndRestore(e.getValue());
            assertEquals(e.getValue(), restored, e.getKey() + ": the persisted row holds the whole state");
            Progress p = table().filter(r -> r.state().equals(e.getKey())).findFirst().orElseThrow().progress();
            assertEquals(LOST_WORK.get(e.getKey()),
                    render(WaveMachine.apply(restored, POLICY, p, new Event.Recovered(), T0 + 1000).decisions()),
                    e.getKey() + ": work handed back after a restart");
            table().filter(r -> r.state().equals(e.getKey())).forEach(r -> {
                Step before = WaveMachine.apply(r.s(), POLICY, r.progress(), r.event(), T0 + r.nowOffset());
                Step after = WaveMachine.apply(restored, POLICY, r.progress(), r.event(), T0 + r.nowOffset());
                assertEquals(before, after, r + ": same next state and decisions after a restart");
            });
        }
    }

    @Test
    void aRolloutRestartedAfterEveryStepEndsLikeOneThatNeverStopped() {
        // The script of a good rollout: canary, two batches, each committed, soaked and gated.
        record Beat(Progress progress, Event event, long now) {
        }
        Progress w1 = CANARY_DONE;
        Progress w2 = new Progress(Map.of(1, t(0, 0, 1, 0, 0, 0, 0), 2, t(0, 0, 2, 0, 0, 0, 0), 3, t(2, 0, 0, 0, 0, 0, 0)));
        List<Beat> script = List.of(
                new Beat(CANARY_IN_FLIGHT, new Event.Tick(), T0 + 500),
                new Beat(w1, new Event.TargetsChanged(), T0 + 1000),
                new Beat(w1, new Event.Tick(), T0 + 1000 + SOAK_MS),
                new Beat(w1, new Event.GatesEvaluated(1, List.of(PASS)), T0 + 1500 + SOAK_MS),
                new Beat(w2, new Event.TargetsChanged(), T0 + 2000 + SOAK_MS),
                new Beat(w2, new Event.Tick(), T0 + 2000 + 2 * SOAK_MS),
                new Beat(w2, new Event.GatesEvaluated(2, List.of(PASS)), T0 + 2500 + 2 * SOAK_MS),
                new Beat(ALL_COMMITTED, new Event.TargetsChanged(), T0 + 3000 + 2 * SOAK_MS),
                new Beat(ALL_COMMITTED, new Event.Tick(), T0 + 3000 + 3 * SOAK_MS),
                new Beat(ALL_COMMITTED, new Event.GatesEvaluated(3, List.of(PASS)), T0 + 3500 + 3 * SOAK_MS));
        Step first = WaveMachine.start(3, T0);
        List<String> uninterrupted = new ArrayList<>(List.of(render(first.decisions())));
        State s = first.state();
        for (Beat b : script) {
            Step st = WaveMachine.apply(s, POLICY, b.progress(), b.event(), b.now());
            uninterrupted.add(render(st.decisions()));
            s = st.state();
        }
        assertEquals(DeploymentStatus.COMPLETED, s.status());
        assertEquals(List.of("DispatchWave(1)", "", "", "EvaluateGates(1)", "DispatchWave(2)", "", "EvaluateGates(2)",
                "DispatchWave(3)", "", "EvaluateGates(3)", ""), uninterrupted);

        // Killed after every beat: restored from the row, the Recovered event, then the rest of the script.
        for (int crashAfter = 0; crashAfter <= script.size(); crashAfter++) {
            State c = first.state();
            for (int i = 0; i < crashAfter; i++) {
                c = WaveMachine.apply(c, POLICY, script.get(i).progress(), script.get(i).event(), script.get(i).now()).state();
            }
            c = persistAndRestore(c);
            Progress atCrash = crashAfter == 0 ? CANARY_IN_FLIGHT : script.get(crashAfter - 1).progress();
            long crashNow = crashAfter == 0 ? T0 : script.get(crashAfter - 1).now();
            Step recovered = WaveMachine.apply(c, POLICY, atCrash, new Event.Recovered(), crashNow);
            c = recovered.state();
            // Recovery hands back the work of the state it was killed in: commands of a deploying wave, a gate
            // evaluation that ran in memory; nothing for a soaking or finished one.
            String expected = c.status() != DeploymentStatus.IN_PROGRESS ? ""
                    : c.phase() == Phase.DEPLOYING ? "DispatchWave(" + c.wave() + ")"
                    : c.phase() == Phase.GATING ? "EvaluateGates(" + c.wave() + ")" : "";
            assertEquals(expected, render(recovered.decisions()), "crash after beat " + crashAfter);
            for (int i = crashAfter; i < script.size(); i++) {
                Step st = WaveMachine.apply(c, POLICY, script.get(i).progress(), script.get(i).event(), script.get(i).now());
                assertEquals(uninterrupted.get(i + 1), render(st.decisions()), "crash after beat " + crashAfter
                        + ", beat " + i);
                c = st.state();
            }
            assertEquals(DeploymentStatus.COMPLETED, c.status(), "crash after beat " + crashAfter);
        }
    }

    static String render(List<Decision> decisions) {
        return decisions.stream().map(d -> {
            if (d instanceof Decision.DispatchWave w) {
                return "DispatchWave(" + w.wave() + ")";
            } else if (d instanceof Decision.AddTarget a) {
                return "AddTarget(" + a.deviceId() + "," + a.wave() + "," + a.dispatch() + ")";
            } else if (d instanceof Decision.EvaluateGates g) {
                return "EvaluateGates(" + g.wave() + ")";
            } else if (d instanceof Decision.Halt h) {
                return "Halt(" + h.rule() + ")";
            } else if (d instanceof Decision.ResendRollbacks) {
                return "ResendRollbacks";
            } else if (d instanceof Decision.Refuse) {
                return "Refuse";
            }
            throw new AssertionError(d);
        }).collect(Collectors.joining(","));
    }
}
