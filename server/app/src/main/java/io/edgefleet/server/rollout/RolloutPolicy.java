package io.edgefleet.server.rollout;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * How a deployment advances, in plain Java: the REST body's {@code policy} object and, once
 * {@link #resolved() resolved}, what is stored with the deployment. Names follow AWS IoT Jobs
 * ({@code abortConfig}, {@code baseRatePerMinute}, {@code incrementFactor}, {@code minNumberOfExecutedThings},
 * {@code thresholdPercentage}) and hawkBit ({@code successCondition}); docs/rollouts.md lists the defaults.
 * A deployment created without a policy gets the defaults (a canary, then waves; docs/rollouts.md); every target at
 * once only when asked for: {@code {"allAtOnce": true}} ({@link #everyTargetAtOnce()}: one wave, no gates, no abort rule) or
 * the long explicit form (canary and batches 100%, soak 0).
 */
@Schema(description = "How a deployment advances: a canary wave, then batches, each soaked and gated; an abort "
        + "rule halts it. Fields left out take the defaults of docs/rollouts.md.")
public record RolloutPolicy(
        @Schema(description = "The first wave: a count or a percent of the targets.")
        Canary canary,
        @Schema(description = "The waves after the canary.")
        Batches batches,
        @Schema(description = "How long each wave is watched before the next starts.")
        Long soakSeconds,
        @Schema(description = "Share of a wave that must commit for the next wave to start.")
        SuccessCondition successCondition,
        @Schema(description = "Telemetry gates over each wave's soak.")
        Gates gates,
        @Schema(description = "When the deployment halts itself and sends back the devices it touched.")
        Abort abort,
        @Schema(description = "A target not finished after this long is TIMED_OUT.")
        Long targetTimeoutSeconds,
        @Schema(description = "true: every target at once, no gates, no abort rule (the short explicit form).")
        Boolean allAtOnce) {

    public static final long DEFAULT_SOAK_SECONDS = 60;
    public static final long DEFAULT_TARGET_TIMEOUT_SECONDS = 1800;
    public static final double DEFAULT_MIN_COMMITTED_PERCENT = 90;
    public static final double DEFAULT_BATCH_PERCENT = 50;
    public static final double DEFAULT_INCREMENT_FACTOR = 2;
    public static final double DEFAULT_ABORT_THRESHOLD_PERCENT = 20;
    public static final double DEFAULT_GATE_TOLERANCE_PERCENT = 10;
    public static final double DEFAULT_MAX_ERROR_RATE = 0.05;

    /** The shape before the {@code allAtOnce} short form, kept for callers that build policies in code. */
    public RolloutPolicy(Canary canary, Batches batches, Long soakSeconds, SuccessCondition successCondition,
                         Gates gates, Abort abort, Long targetTimeoutSeconds) {
        this(canary, batches, soakSeconds, successCondition, gates, abort, targetTimeoutSeconds, null);
    }

    /** The policy of a deployment created without one: every field at its default (docs/rollouts.md). */
    public static RolloutPolicy defaults() {
        return new RolloutPolicy(null, null, null, null, null, null, null, null).resolved();
    }

    /** Exactly one of the two; at least one device either way. */
    @Schema(description = "The canary wave: exactly one of count and percent; at least one device either way.")
    public record Canary(
            @Schema(description = "Number of devices.")
            Integer count,
            @Schema(description = "Percent of the targets (0..100].")
            Double percent) {
    }

    /** One of: a fixed size, a share of all targets, or a growing rate (wave k gets base x factor^(k-1)). */
    @Schema(description = "The waves after the canary: a fixed size, a share of all targets, or a growing rate.")
    public record Batches(
            @Schema(description = "Devices per wave.")
            Integer size,
            @Schema(description = "Percent of all targets per wave.")
            Double percent,
            @Schema(description = "Devices in the first batch; wave k gets base x factor^(k-1).")
            Integer baseRatePerMinute,
            @Schema(description = "Growth factor of the rate (>= 1).")
            Double incrementFactor) {
    }

    @Schema(description = "What a wave must reach before the next starts.")
    public record SuccessCondition(
            @Schema(description = "Percent of the wave's finished targets that must have committed.")
            Double minCommittedPercent) {
    }

    /**
     * Telemetry gates over each wave's soak. Latency and energy compare with the device class SLO;
     * {@code maxErrorRate} and {@code maxDrift} are absolute; a breach also has to be worse than the
     * baseline (the same devices before the wave) by more than {@code tolerancePercent}.
     */
    @Schema(description = "Telemetry gates over each wave's soak; a breach must also be worse than the same "
            + "devices' baseline by more than tolerancePercent.")
    public record Gates(
            @Schema(description = "Gate on p95 latency against the class SLO.")
            Boolean latency,
            @Schema(description = "Largest error rate, 0..1.")
            Double maxErrorRate,
            @Schema(description = "Gate on energy per inference against the class SLO.")
            Boolean energy,
            @Schema(description = "Largest drift score (PSI).")
            Double maxDrift,
            @Schema(description = "How much worse than the baseline a value must be to count as a breach.")
            Double tolerancePercent,
            @Schema(description = "Fewest telemetry windows for a gate to decide.")
            Integer minWindows) {
    }

    @Schema(description = "A target outcome an abort rule counts as a failure.")
    public enum FailureType { FAILED, ROLLED_BACK, TIMED_OUT, ALL }

    @Schema(description = "When the deployment halts itself (AWS IoT Jobs abortConfig).")
    public record Abort(
            @Schema(description = "Which outcomes count as failures: FAILED, ROLLED_BACK, TIMED_OUT or ALL.")
            List<FailureType> failureTypes,
            @Schema(description = "Finished targets needed before the rule applies.")
            Integer minNumberOfExecutedThings,
            @Schema(description = "Percent of failures among finished targets that halts the deployment.")
            Double thresholdPercentage) {
    }

    /** A field that cannot work, named as the REST body names it. */
    public static final class InvalidPolicyException extends RuntimeException {
        private final String field;

        public InvalidPolicyException(String field, String message) {
            super(field + ": " + message);
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    /**
     * Every target at once, no gates, no halt rule: what {@code {"allAtOnce": true}} asks for, and how deployments
     * stored before waves existed (no policy column) are read.
     */
    public static RolloutPolicy everyTargetAtOnce() {
        return new RolloutPolicy(new Canary(null, 100.0), new Batches(null, 100.0, null, null), 0L,
                new SuccessCondition(0.0), new Gates(false, null, false, null, DEFAULT_GATE_TOLERANCE_PERCENT, 1),
                null, DEFAULT_TARGET_TIMEOUT_SECONDS, true);
    }

    private static boolean nullOr(Object given, Object standsFor) {
        return given == null || given.equals(standsFor);
    }

    /** Every field filled in with its default; throws {@link InvalidPolicyException} for one that cannot work. */
    public RolloutPolicy resolved() {
        if (Boolean.TRUE.equals(allAtOnce)) {
            RolloutPolicy all = everyTargetAtOnce();
            // Alone, or with exactly the fields it resolves to: the stored policy a deployment shows (and
            // everyTargetAtOnce() itself) must be accepted again when sent back, e.g. to repeat a deployment.
            if (!nullOr(canary, all.canary) || !nullOr(batches, all.batches) || !nullOr(soakSeconds, all.soakSeconds)
                    || !nullOr(successCondition, all.successCondition) || !nullOr(gates, all.gates) || abort != null) {
                throw new InvalidPolicyException("policy.allAtOnce",
                        "cannot be combined with canary, batches, soakSeconds, successCondition, gates or abort"
                                + " (other than the values it stands for)");
            }
            long timeout = targetTimeoutSeconds == null ? DEFAULT_TARGET_TIMEOUT_SECONDS : targetTimeoutSeconds;
            if (timeout < 1 || timeout > 30L * 24 * 3600) {
                throw new InvalidPolicyException("policy.targetTimeoutSeconds",
                        "must be in [1, 2592000] (got " + timeout + ")");
            }
            return new RolloutPolicy(all.canary, all.batches, all.soakSeconds, all.successCondition, all.gates, null,
                    timeout, true);
        }
        Canary c = canary == null ? new Canary(1, null) : canary;
        if (c.count() != null && c.percent() != null) {
            throw new InvalidPolicyException("policy.canary", "give 'count' or 'percent', not both");
        }
        if (c.count() == null && c.percent() == null) {
            c = new Canary(1, null);
        }
        if (c.count() != null && c.count() < 1) {
            throw new InvalidPolicyException("policy.canary.count", "must be at least 1 (got " + c.count() + ")");
        }
        if (c.percent() != null && !(c.percent() > 0 && c.percent() <= 100)) {
            throw new InvalidPolicyException("policy.canary.percent", "must be in (0, 100] (got " + c.percent() + ")");
        }

        Batches b = batches == null ? new Batches(null, DEFAULT_BATCH_PERCENT, null, null) : batches;
        int modes = (b.size() != null ? 1 : 0) + (b.percent() != null ? 1 : 0) + (b.baseRatePerMinute() != null ? 1 : 0);
        if (modes > 1) {
            throw new InvalidPolicyException("policy.batches", "give one of 'size', 'percent' and 'baseRatePerMinute'");
        }
        if (modes == 0) {
            if (b.incrementFactor() != null) {
                throw new InvalidPolicyException("policy.batches.incrementFactor", "needs 'baseRatePerMinute'");
            }
            b = new Batches(null, DEFAULT_BATCH_PERCENT, null, null);
        }
        if (b.size() != null && b.size() < 1) {
            throw new InvalidPolicyException("policy.batches.size", "must be at least 1 (got " + b.size() + ")");
        }
        if (b.percent() != null && !(b.percent() > 0 && b.percent() <= 100)) {
            throw new InvalidPolicyException("policy.batches.percent", "must be in (0, 100] (got " + b.percent() + ")");
        }
        if (b.baseRatePerMinute() != null) {
            if (b.baseRatePerMinute() < 1) {
                throw new InvalidPolicyException("policy.batches.baseRatePerMinute",
                        "must be at least 1 (got " + b.baseRatePerMinute() + ")");
            }
            double f = b.incrementFactor() == null ? DEFAULT_INCREMENT_FACTOR : b.incrementFactor();
            if (!(f >= 1 && f <= 5)) {
                throw new InvalidPolicyException("policy.batches.incrementFactor", "must be in [1, 5] (got " + f + ")");
            }
            b = new Batches(null, null, b.baseRatePerMinute(), f);
        } else if (b.incrementFactor() != null) {
            throw new InvalidPolicyException("policy.batches.incrementFactor", "needs 'baseRatePerMinute'");
        }

        long soak = soakSeconds == null ? DEFAULT_SOAK_SECONDS : soakSeconds;
        if (soak < 0 || soak > 7 * 24 * 3600) {
            throw new InvalidPolicyException("policy.soakSeconds", "must be in [0, 604800] (got " + soak + ")");
        }
        double minCommitted = successCondition == null || successCondition.minCommittedPercent() == null
                ? DEFAULT_MIN_COMMITTED_PERCENT : successCondition.minCommittedPercent();
        if (!(minCommitted >= 0 && minCommitted <= 100)) {
            throw new InvalidPolicyException("policy.successCondition.minCommittedPercent",
                    "must be in [0, 100] (got " + minCommitted + ")");
        }

        Gates g = gates == null ? new Gates(null, null, null, null, null, null) : gates;
        Double maxErr = g.maxErrorRate() == null ? DEFAULT_MAX_ERROR_RATE : g.maxErrorRate();
        if (!(maxErr >= 0 && maxErr <= 1)) {
            throw new InvalidPolicyException("policy.gates.maxErrorRate", "must be in [0, 1] (got " + maxErr + ")");
        }
        if (g.maxDrift() != null && !(g.maxDrift() > 0 && g.maxDrift() <= 10)) {
            throw new InvalidPolicyException("policy.gates.maxDrift", "must be in (0, 10] (got " + g.maxDrift() + ")");
        }
        double tol = g.tolerancePercent() == null ? DEFAULT_GATE_TOLERANCE_PERCENT : g.tolerancePercent();
        if (!(tol >= 0 && tol <= 1000)) {
            throw new InvalidPolicyException("policy.gates.tolerancePercent", "must be in [0, 1000] (got " + tol + ")");
        }
        int minWindows = g.minWindows() == null ? 1 : g.minWindows();
        if (minWindows < 0 || minWindows > 1000) {
            throw new InvalidPolicyException("policy.gates.minWindows", "must be in [0, 1000] (got " + minWindows + ")");
        }
        g = new Gates(g.latency() == null || g.latency(), maxErr, g.energy() == null || g.energy(), g.maxDrift(), tol,
                minWindows);

        Abort a = abort == null ? new Abort(null, null, null) : abort;
        if (a.failureTypes() != null && a.failureTypes().stream().anyMatch(java.util.Objects::isNull)) {
            throw new InvalidPolicyException("policy.abort.failureTypes", "contains an empty entry");
        }
        List<FailureType> types = a.failureTypes() == null || a.failureTypes().isEmpty()
                ? List.of(FailureType.ALL) : List.copyOf(new LinkedHashSet<>(a.failureTypes()));
        int minExecuted = a.minNumberOfExecutedThings() == null ? 1 : a.minNumberOfExecutedThings();
        if (minExecuted < 1) {
            throw new InvalidPolicyException("policy.abort.minNumberOfExecutedThings",
                    "must be at least 1 (got " + minExecuted + ")");
        }
        double threshold = a.thresholdPercentage() == null ? DEFAULT_ABORT_THRESHOLD_PERCENT : a.thresholdPercentage();
        if (!(threshold > 0 && threshold <= 100)) {
            throw new InvalidPolicyException("policy.abort.thresholdPercentage",
                    "must be in (0, 100] (got " + threshold + ")");
        }

        long timeout = targetTimeoutSeconds == null ? DEFAULT_TARGET_TIMEOUT_SECONDS : targetTimeoutSeconds;
        if (timeout < 1 || timeout > 30L * 24 * 3600) {
            throw new InvalidPolicyException("policy.targetTimeoutSeconds", "must be in [1, 2592000] (got " + timeout + ")");
        }
        return new RolloutPolicy(c, b, soak, new SuccessCondition(minCommitted), g,
                new Abort(types, minExecuted, threshold), timeout, null);
    }

    /** Whether a target that ended in {@code state} (with the server's {@code reason}) counts against the abort rule. */
    public boolean countsAsFailure(TargetState state) {
        if (abort == null) {
            return false;
        }
        Set<FailureType> types = Set.copyOf(abort.failureTypes());
        boolean all = types.contains(FailureType.ALL);
        return switch (state) {
            case FAILED -> all || types.contains(FailureType.FAILED);
            case ROLLED_BACK -> all || types.contains(FailureType.ROLLED_BACK);
            case TIMED_OUT -> all || types.contains(FailureType.TIMED_OUT);
            default -> false;
        };
    }

    public boolean gatesEnabled() {
        return gates != null && (Boolean.TRUE.equals(gates.latency()) || gates.maxErrorRate() != null
                || Boolean.TRUE.equals(gates.energy()) || gates.maxDrift() != null);
    }

    /**
     * Wave sizes for {@code total} targets: the canary first, then batches until every target has a wave.
     * The canary may not take every target unless the policy asks for 100% (an all-at-once deployment).
     */
    public List<Integer> waveSizes(int total) {
        if (total <= 0) {
            return List.of();
        }
        int canarySize = canary.count() != null ? canary.count()
                : (int) Math.max(1, Math.ceil(total * canary.percent() / 100.0));
        if (canarySize > total) {
            throw new InvalidPolicyException("policy.canary.count",
                    "the canary (" + canarySize + " devices) is larger than the target (" + total + " devices)");
        }
        List<Integer> sizes = new ArrayList<>();
        sizes.add(canarySize);
        int left = total - canarySize;
        for (int k = 1; left > 0; k++) {
            int n;
            if (batches.size() != null) {
                n = batches.size();
            } else if (batches.percent() != null) {
                n = (int) Math.max(1, Math.ceil(total * batches.percent() / 100.0));
            } else {
                double f = batches.incrementFactor() == null ? DEFAULT_INCREMENT_FACTOR : batches.incrementFactor();
                n = (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.ceil(batches.baseRatePerMinute() * Math.pow(f, k - 1))));
            }
            n = Math.min(n, left);
            sizes.add(n);
            left -= n;
        }
        return sizes;
    }
}
