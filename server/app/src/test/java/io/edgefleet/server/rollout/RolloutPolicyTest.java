package io.edgefleet.server.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.server.rollout.RolloutPolicy.Abort;
import io.edgefleet.server.rollout.RolloutPolicy.Batches;
import io.edgefleet.server.rollout.RolloutPolicy.Canary;
import io.edgefleet.server.rollout.RolloutPolicy.FailureType;
import io.edgefleet.server.rollout.RolloutPolicy.Gates;
import io.edgefleet.server.rollout.RolloutPolicy.SuccessCondition;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RolloutPolicyTest {

    static RolloutPolicy policy(Canary c, Batches b) {
        return new RolloutPolicy(c, b, null, null, null, null, null).resolved();
    }

    @Test
    void anEmptyPolicyTakesTheDocumentedDefaults() {
        RolloutPolicy p = new RolloutPolicy(null, null, null, null, null, null, null).resolved();
        assertEquals(1, p.canary().count());
        assertEquals(RolloutPolicy.DEFAULT_BATCH_PERCENT, p.batches().percent());
        assertEquals(RolloutPolicy.DEFAULT_SOAK_SECONDS, p.soakSeconds());
        assertEquals(RolloutPolicy.DEFAULT_MIN_COMMITTED_PERCENT, p.successCondition().minCommittedPercent());
        assertEquals(List.of(FailureType.ALL), p.abort().failureTypes());
        assertEquals(1, p.abort().minNumberOfExecutedThings());
        assertEquals(RolloutPolicy.DEFAULT_ABORT_THRESHOLD_PERCENT, p.abort().thresholdPercentage());
        assertEquals(RolloutPolicy.DEFAULT_TARGET_TIMEOUT_SECONDS, p.targetTimeoutSeconds());
        assertTrue(p.gates().latency());
        assertEquals(RolloutPolicy.DEFAULT_MAX_ERROR_RATE, p.gates().maxErrorRate());
        assertTrue(p.gatesEnabled());
        assertEquals(p, p.resolved(), "resolving is idempotent (stored policies are read back resolved)");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            // name | canary count | canary % | batch size | batch % | base rate | factor | targets | wave sizes
            "canary 1, halves           | 1 |     |   | 50 |   |     | 10 | 1,5,4",
            "canary 10%, batches of 3   |   | 10  | 3 |    |   |     | 10 | 1,3,3,3",
            "canary 2, growing x2 from 1| 2 |     |   |    | 1 | 2.0 | 20 | 2,1,2,4,8,3",
            "canary is the whole target | 5 |     | 1 |    |   |     | 5  | 5",
            "one device                 | 1 |     |   | 50 |   |     | 1  | 1",
            "all at once (100%)         |   | 100 |   | 100|   |     | 7  | 7"})
    void waveSizes(String name, Integer cc, Double cp, Integer bs, Double bp, Integer base, Double factor, int total,
                   String expected) {
        RolloutPolicy p = policy(new Canary(cc, cp), new Batches(bs, bp, base, factor));
        List<Integer> sizes = p.waveSizes(total);
        assertEquals(expected, String.join(",", sizes.stream().map(String::valueOf).toList()));
        assertEquals(total, sizes.stream().mapToInt(Integer::intValue).sum(), "every target in exactly one wave");
    }

    @Test
    void aCanaryLargerThanTheTargetNamesTheField() {
        RolloutPolicy p = policy(new Canary(4, null), null);
        var e = assertThrows(RolloutPolicy.InvalidPolicyException.class, () -> p.waveSizes(3));
        assertEquals("policy.canary.count", e.field());
        assertTrue(e.getMessage().contains("larger than the target (3 devices)"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "canary count 0            | policy.canary.count",
            "canary percent 0          | policy.canary.percent",
            "canary both               | policy.canary",
            "batch percent 150         | policy.batches.percent",
            "batch two modes           | policy.batches",
            "factor without base       | policy.batches.incrementFactor",
            "factor 9                  | policy.batches.incrementFactor",
            "soak negative             | policy.soakSeconds",
            "minCommitted 101          | policy.successCondition.minCommittedPercent",
            "maxErrorRate 2            | policy.gates.maxErrorRate",
            "maxDrift 0                | policy.gates.maxDrift",
            "threshold 0               | policy.abort.thresholdPercentage",
            "threshold 120             | policy.abort.thresholdPercentage",
            "minExecuted 0             | policy.abort.minNumberOfExecutedThings",
            "timeout 0                 | policy.targetTimeoutSeconds"})
    void aPolicyThatCannotWorkIsRefusedNamingTheField(String name, String field) {
        RolloutPolicy p = switch (name.trim()) {
            case "canary count 0" -> new RolloutPolicy(new Canary(0, null), null, null, null, null, null, null);
            case "canary percent 0" -> new RolloutPolicy(new Canary(null, 0.0), null, null, null, null, null, null);
            case "canary both" -> new RolloutPolicy(new Canary(1, 10.0), null, null, null, null, null, null);
            case "batch percent 150" -> new RolloutPolicy(null, new Batches(null, 150.0, null, null), null, null, null, null, null);
            case "batch two modes" -> new RolloutPolicy(null, new Batches(2, 10.0, null, null), null, null, null, null, null);
            case "factor without base" -> new RolloutPolicy(null, new Batches(null, null, null, 2.0), null, null, null, null, null);
            case "factor 9" -> new RolloutPolicy(null, new Batches(null, null, 5, 9.0), null, null, null, null, null);
            case "soak negative" -> new RolloutPolicy(null, null, -1L, null, null, null, null);
            case "minCommitted 101" -> new RolloutPolicy(null, null, null, new SuccessCondition(101.0), null, null, null);
            case "maxErrorRate 2" -> new RolloutPolicy(null, null, null, null, new Gates(null, 2.0, null, null, null, null),
                    null, null);
            case "maxDrift 0" -> new RolloutPolicy(null, null, null, null, new Gates(null, null, null, 0.0, null, null),
                    null, null);
            case "threshold 0" -> new RolloutPolicy(null, null, null, null, null, new Abort(null, null, 0.0), null);
            case "threshold 120" -> new RolloutPolicy(null, null, null, null, null, new Abort(null, null, 120.0), null);
            case "minExecuted 0" -> new RolloutPolicy(null, null, null, null, null, new Abort(null, 0, null), null);
            case "timeout 0" -> new RolloutPolicy(null, null, null, null, null, null, 0L);
            default -> throw new AssertionError(name);
        };
        var e = assertThrows(RolloutPolicy.InvalidPolicyException.class, p::resolved);
        assertEquals(field.trim(), e.field(), e.getMessage());
    }

    @Test
    void failureTypesSayWhatCountsAgainstTheAbortRule() {
        RolloutPolicy onlyTimeouts = new RolloutPolicy(null, null, null, null, null,
                new Abort(List.of(FailureType.TIMED_OUT), 1, 50.0), null).resolved();
        assertTrue(onlyTimeouts.countsAsFailure(TargetState.TIMED_OUT));
        assertFalse(onlyTimeouts.countsAsFailure(TargetState.FAILED));
        assertFalse(onlyTimeouts.countsAsFailure(TargetState.ROLLED_BACK));
        assertFalse(onlyTimeouts.countsAsFailure(TargetState.COMMITTED));
        assertFalse(RolloutPolicy.everyTargetAtOnce().countsAsFailure(TargetState.FAILED), "no abort rule without a policy");
    }

    @Test
    void everyTargetAtOnceIsAPolicyCreateAccepts() {
        RolloutPolicy all = RolloutPolicy.everyTargetAtOnce();
        assertEquals(all, all.resolved(), "the resolved form of allAtOnce resolves to itself");
        assertEquals(all, new RolloutPolicy(null, null, null, null, null, null, null, true).resolved());
        assertEquals(all, all.resolved().resolved());
        // the short form's fields may be given only with the values it stands for
        var e = assertThrows(RolloutPolicy.InvalidPolicyException.class, () -> new RolloutPolicy(null, null, 60L,
                null, null, null, null, true).resolved());
        assertEquals("policy.allAtOnce", e.field());
        var e2 = assertThrows(RolloutPolicy.InvalidPolicyException.class, () -> new RolloutPolicy(null, null, null,
                null, null, new Abort(null, null, null), null, true).resolved());
        assertEquals("policy.allAtOnce", e2.field());
    }
}
