package io.edgefleet.server.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.planner.Candidate;
import io.edgefleet.server.alert.AlertMetric;
import io.edgefleet.server.loop.LoopDecisions.Admission;
import io.edgefleet.server.loop.LoopDecisions.Decision;
import io.edgefleet.server.loop.LoopDecisions.Event;
import io.edgefleet.server.loop.LoopDecisions.Verdict;
import io.edgefleet.server.rollout.RolloutPolicy;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The closed loop's rules as tables: admission, every state × event, the candidate spaces, the outcome. */
class LoopDecisionsTest {
    private static final long NOW = 10_000_000L;
    private static final long COOLDOWN = 3_600_000L;

    /** A loop-friendly class: automatic, a variant, nothing running, never looped, no fresh data. */
    private static Admission base(AlertMetric m) {
        return new Admission(m, LoopMode.AUTOMATIC, false, true, false, null, COOLDOWN, 0, 2, false, NOW);
    }

    private static Admission with(Admission a, LoopMode mode, Boolean backedOff, Boolean variant, Boolean running,
            Long lastStarted, Integer rollbacks, Boolean fresh) {
        return new Admission(a.metric(), mode != null ? mode : a.mode(), backedOff != null ? backedOff : a.backedOff(),
                variant != null ? variant : a.hasVariant(), running != null ? running : a.loopRunning(),
                lastStarted != null ? lastStarted : a.lastStartedAt(), a.cooldownMs(),
                rollbacks != null ? rollbacks : a.consecutiveRollbacks(), a.maxConsecutiveRollbacks(),
                fresh != null ? fresh : a.hasFreshData(), a.now());
    }

    static Stream<Arguments> admissions() {
        AlertMetric lat = AlertMetric.P95_LATENCY_MS;
        return Stream.of(
                // name, admission, verdict, strategy, reason fragment
                Arguments.of("latency, automatic", base(lat), Verdict.START, LoopStrategy.AGGRESSIVE, "more aggressive"),
                Arguments.of("energy, automatic", base(AlertMetric.ENERGY_MJ_PER_INFERENCE), Verdict.START,
                        LoopStrategy.AGGRESSIVE, "more aggressive"),
                Arguments.of("drift with captured data", with(base(AlertMetric.DRIFT_SCORE), null, null, null, null,
                        null, null, true), Verdict.START, LoopStrategy.RECALIBRATE, "recalibrate"),
                Arguments.of("drift without data", base(AlertMetric.DRIFT_SCORE), Verdict.START, LoopStrategy.GENTLER,
                        "gentler"),
                Arguments.of("error rate with data", with(base(AlertMetric.ERROR_RATE), null, null, null, null, null,
                        null, true), Verdict.START, LoopStrategy.RECALIBRATE, "recalibrate"),
                Arguments.of("error rate without data", base(AlertMetric.ERROR_RATE), Verdict.START,
                        LoopStrategy.GENTLER, "gentler"),
                Arguments.of("approve mode waits", with(base(lat), LoopMode.APPROVE, null, null, null, null, null,
                        null), Verdict.AWAIT_APPROVAL, LoopStrategy.AGGRESSIVE, "awaiting approval"),
                Arguments.of("mode off", with(base(lat), LoopMode.OFF, null, null, null, null, null, null),
                        Verdict.SKIP, null, "off"),
                Arguments.of("off wins over back-off", with(base(AlertMetric.ROLLBACK_RATE), LoopMode.OFF, true, null,
                        null, null, null, null), Verdict.SKIP, null, "off"),
                Arguments.of("backed off", with(base(lat), null, true, null, null, null, null, null), Verdict.SKIP,
                        null, "backed off"),
                Arguments.of("rollback-rate alert backs off", base(AlertMetric.ROLLBACK_RATE), Verdict.BACK_OFF, null,
                        "rollback rate"),
                Arguments.of("two rollbacks in a row back off", with(base(lat), null, null, null, null, null, 2, null),
                        Verdict.BACK_OFF, null, "2 loop(s) ended rolled back"),
                Arguments.of("one rollback is not yet a pattern", with(base(lat), null, null, null, null, null, 1,
                        null), Verdict.START, LoopStrategy.AGGRESSIVE, "more aggressive"),
                Arguments.of("offline share is no model's doing", base(AlertMetric.OFFLINE_SHARE), Verdict.SKIP, null,
                        "not a model's doing"),
                Arguments.of("no variant", with(base(lat), null, null, false, null, null, null, null), Verdict.SKIP,
                        null, "no registered variant"),
                Arguments.of("a loop is open", with(base(lat), null, null, null, true, null, null, null),
                        Verdict.SKIP, null, "still running"),
                Arguments.of("inside the cooldown", with(base(lat), null, null, null, null, NOW - COOLDOWN + 1, null,
                        null), Verdict.SKIP, null, "cooldown"),
                Arguments.of("cooldown over", with(base(lat), null, null, null, null, NOW - COOLDOWN, null, null),
                        Verdict.START, LoopStrategy.AGGRESSIVE, "more aggressive"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("admissions")
    void admission(String name, Admission a, Verdict verdict, LoopStrategy strategy, String reason) {
        Decision d = LoopDecisions.admit(a);
        assertEquals(verdict, d.verdict(), name);
        assertEquals(strategy, d.strategy(), name);
        assertTrue(d.reason().contains(reason), () -> name + ": " + d.reason());
    }

    @Test
    void decisionsMapToStates() {
        assertEquals(LoopState.READY, new Decision(Verdict.START, LoopStrategy.AGGRESSIVE, "").state());
        assertEquals(LoopState.AWAITING_APPROVAL, new Decision(Verdict.AWAIT_APPROVAL, null, "").state());
        assertEquals(LoopState.SKIPPED, new Decision(Verdict.SKIP, null, "").state());
        assertEquals(LoopState.BACKED_OFF, new Decision(Verdict.BACK_OFF, null, "").state());
    }

    /** Every legal (state, event) pair; everything else must be refused. */
    private static final Map<LoopState, Map<Event, LoopState>> LEGAL = new EnumMap<>(LoopState.class);

    static {
        LEGAL.put(LoopState.AWAITING_APPROVAL, Map.of(Event.APPROVE, LoopState.READY, Event.REJECT,
                LoopState.REJECTED));
        LEGAL.put(LoopState.READY, Map.of(Event.SUBMITTED, LoopState.PLANNING, Event.NOTHING_TO_TRY,
                LoopState.NO_CHOICE, Event.PLAN_FAILED, LoopState.FAILED));
        LEGAL.put(LoopState.PLANNING, Map.of(Event.PLAN_CHOSEN, LoopState.GATED, Event.PLAN_NO_CHOICE,
                LoopState.NO_CHOICE, Event.PLAN_FAILED, LoopState.FAILED));
        LEGAL.put(LoopState.GATED, Map.of(Event.DEPLOYED, LoopState.CANARY, Event.DEPLOY_REFUSED, LoopState.FAILED));
        LEGAL.put(LoopState.CANARY, Map.of(Event.PROMOTED, LoopState.PROMOTED, Event.HALTED, LoopState.ROLLED_BACK));
    }

    static Stream<Arguments> everyStateAndEvent() {
        List<Arguments> out = new ArrayList<>();
        for (LoopState s : LoopState.values()) {
            for (Event e : Event.values()) {
                out.add(Arguments.of(s, e, LEGAL.getOrDefault(s, Map.of()).get(e)));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} x {1} -> {2}")
    @MethodSource("everyStateAndEvent")
    void transitions(LoopState from, Event event, LoopState expected) {
        Optional<LoopState> to = LoopDecisions.next(from, event);
        assertEquals(Optional.ofNullable(expected), to);
        if (from.terminal()) {
            assertTrue(to.isEmpty(), "a finished loop never moves");
        }
    }

    @Test
    void terminalAndStartedStates() {
        for (LoopState s : LoopState.values()) {
            assertEquals(!LEGAL.containsKey(s), s.terminal(), s.name());
        }
        assertFalse(LoopState.SKIPPED.started());
        assertFalse(LoopState.BACKED_OFF.started());
        assertFalse(LoopState.AWAITING_APPROVAL.started());
        assertFalse(LoopState.REJECTED.started());
        assertTrue(LoopState.READY.started());
        assertTrue(LoopState.ROLLED_BACK.started());
    }

    private static Candidate c(String recipe, String... kv) {
        TreeMap<String, String> p = new TreeMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            p.put(kv[i], kv[i + 1]);
        }
        return Candidate.of(recipe, p, p, List.of("fp32"));
    }

    private static final List<Candidate> GRID = List.of(c("identity"), c("fp16-storage"), c("static-int8-entropy"),
            c("prune-structured", "target", "0.75"), c("prune-structured", "target", "0.5"));

    static Stream<Arguments> spaces() {
        return Stream.of(
                // every candidate but the current one: the tightened target decides, not the grid's order
                Arguments.of(LoopStrategy.AGGRESSIVE, "identity", List.of("fp16-storage", "static-int8-entropy",
                        "prune-structured[target=0.75]", "prune-structured[target=0.5]")),
                Arguments.of(LoopStrategy.AGGRESSIVE, "static-int8-entropy", List.of("identity", "fp16-storage",
                        "prune-structured[target=0.75]", "prune-structured[target=0.5]")),
                Arguments.of(LoopStrategy.AGGRESSIVE, "prune-structured[target=0.5]", List.of("identity",
                        "fp16-storage", "static-int8-entropy", "prune-structured[target=0.75]")),
                Arguments.of(LoopStrategy.AGGRESSIVE, "my-own-recipe", List.of("fp16-storage", "static-int8-entropy",
                        "prune-structured[target=0.75]", "prune-structured[target=0.5]")),
                Arguments.of(LoopStrategy.RECALIBRATE, "static-int8-entropy", List.of("identity", "fp16-storage",
                        "static-int8-entropy")),
                Arguments.of(LoopStrategy.RECALIBRATE, "identity", List.of("identity")),
                Arguments.of(LoopStrategy.GENTLER, "static-int8-entropy", List.of("identity", "fp16-storage")),
                Arguments.of(LoopStrategy.GENTLER, "identity", List.of()),
                Arguments.of(LoopStrategy.GENTLER, "my-own-recipe", List.of("identity", "fp16-storage",
                        "static-int8-entropy", "prune-structured[target=0.75]", "prune-structured[target=0.5]")));
    }

    @ParameterizedTest(name = "{0} from {1}")
    @MethodSource("spaces")
    void candidateSpaces(LoopStrategy s, String current, List<String> expected) {
        assertEquals(expected, LoopDecisions.ids(LoopDecisions.candidates(s, GRID, current)));
    }

    @Test
    void anAggressiveReplanOfAOneCandidateGridHasNothingToTry() {
        assertEquals(List.of(), LoopDecisions.candidates(LoopStrategy.AGGRESSIVE, List.of(c("identity")), "identity"));
    }

    /**
     * metric, measured on devices, rule threshold, class p95 SLO, class energy SLO → factor, the plan's p95 limit,
     * the plan's energy limit (null: the class's), a phrase of the reason.
     */
    static Stream<Arguments> targets() {
        AlertMetric lat = AlertMetric.P95_LATENCY_MS;
        AlertMetric en = AlertMetric.ENERGY_MJ_PER_INFERENCE;
        return Stream.of(
                // twice over a 40 ms SLO: the planner must estimate 20 ms
                Arguments.of(lat, 80.0, null, 40.0, null, 2.0, 20.0, null, "2x the class's SLO"),
                Arguments.of(lat, 50.0, 40.0, 40.0, 100.0, 1.25, 32.0, null, "limit is 32 ms"),
                // the SLO, not a rule's lower warning threshold, is what the devices must meet
                Arguments.of(lat, 50.0, 20.0, 40.0, null, 1.25, 32.0, null, "1.25x the class's SLO"),
                // a warning before the SLO, or no measurement: another candidate that meets the SLO itself
                Arguments.of(lat, 30.0, 25.0, 40.0, null, 1.0, 40.0, null, "not over the class's SLO"),
                Arguments.of(lat, null, null, 40.0, null, 1.0, 40.0, null, "(unknown)"),
                Arguments.of(en, 150.0, null, 40.0, 100.0, 1.5, null, 100.0 / 1.5, "1.5x the class's SLO"),
                // no energy SLO: the rule's threshold stands in
                Arguments.of(en, 150.0, 120.0, 40.0, null, 1.25, null, 96.0, "the rule's threshold"));
    }

    @ParameterizedTest(name = "{0} measured {1}")
    @MethodSource("targets")
    void aBreachTightensThePlansTargetByHowFarTheDevicesAreOver(AlertMetric metric, Double measured,
            Double threshold, double sloP95, Double sloEnergy, double factor, Double p95, Double energy, String why) {
        LoopDecisions.Target t = LoopDecisions.tightened(metric, measured, threshold, sloP95, sloEnergy);
        assertEquals(factor, t.factor(), 1e-9);
        if (p95 == null) {
            assertNull(t.p95LatencyMs());
        } else {
            assertEquals(p95, t.p95LatencyMs(), 1e-9);
        }
        if (energy == null) {
            assertNull(t.maxEnergyMj());
        } else {
            assertEquals(energy, t.maxEnergyMj(), 1e-9);
        }
        assertTrue(t.reason().contains(why), t.reason());
    }

    @Test
    void onlyLatencyAndEnergyBreachesTightenATarget() {
        assertNull(LoopDecisions.tightened(AlertMetric.DRIFT_SCORE, 0.6, 0.2, 40.0, 100.0));
        assertNull(LoopDecisions.tightened(AlertMetric.ERROR_RATE, 0.5, 0.05, 40.0, 100.0));
        // an energy breach of a class with no energy SLO and a rule without a threshold has nothing to tighten
        assertNull(LoopDecisions.tightened(AlertMetric.ENERGY_MJ_PER_INFERENCE, 150.0, null, 40.0, null));
    }

    @Test
    void deploymentStatusesReadAsOutcomes() {
        Map<String, Boolean> table = Map.of("COMPLETED", true, "PARTIAL", true, "ABORTED", false, "ROLLED_BACK", false,
                "FAILED", false, "TIMED_OUT", false);
        table.forEach((status, promoted) -> assertEquals(promoted, LoopDecisions.outcome(status), status));
        assertNull(LoopDecisions.outcome("IN_PROGRESS"));
        assertNull(LoopDecisions.outcome("PAUSED"));
    }

    @Test
    void consecutiveRollbacksCountOnlyFinishedLoopsThatDidWork() {
        assertEquals(0, LoopDecisions.consecutiveRollbacks(List.of()));
        assertEquals(2, LoopDecisions.consecutiveRollbacks(List.of(LoopState.ROLLED_BACK, LoopState.SKIPPED,
                LoopState.ROLLED_BACK, LoopState.PROMOTED, LoopState.ROLLED_BACK)));
        assertEquals(1, LoopDecisions.consecutiveRollbacks(List.of(LoopState.CANARY, LoopState.ROLLED_BACK,
                LoopState.NO_CHOICE, LoopState.ROLLED_BACK)));
        assertEquals(0, LoopDecisions.consecutiveRollbacks(List.of(LoopState.PROMOTED, LoopState.ROLLED_BACK)));
    }

    @Test
    void theCanaryIsOneDeviceGatedByTheClassSlos() {
        RolloutPolicy p = LoopDecisions.canaryPolicy(30, 2).resolved();
        assertEquals(1, p.canary().count());
        assertEquals(List.of(1, 5, 4), p.waveSizes(10));
        assertEquals(30, p.soakSeconds());
        assertEquals(Boolean.TRUE, p.gates().latency());
        assertEquals(Boolean.TRUE, p.gates().energy());
        assertEquals(2, p.gates().minWindows());
        assertTrue(p.abort() != null && p.abort().thresholdPercentage() > 0, "the default abort rule halts it");
    }

    @Test
    void modesParseFromTheirLabels() {
        assertEquals(LoopMode.AUTOMATIC, LoopMode.parse("automatic"));
        assertEquals(LoopMode.APPROVE, LoopMode.parse(" APPROVE "));
        assertEquals(LoopMode.OFF, LoopMode.parse("off"));
        assertNull(LoopMode.parse("sometimes"));
        assertNull(LoopMode.parse(null));
        assertEquals("approve", LoopMode.APPROVE.label());
    }
}
