package io.edgefleet.agent.health;

import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ReasonCode;
import java.util.Locale;
import java.util.Objects;

/**
 * The local health rule that decides, window by window after an activation, whether the new model
 * commits or rolls back. Pure logic: feed it each telemetry window of the candidate.
 *
 * <p>An error rate over the limit breaches at once. A p95 over the latency limit breaches only when two windows in a
 * row are over it: one window's p95 rests on its slowest few runs, and one scheduler stall on a loaded device (or the
 * first runs of a freshly loaded session) puts a model that holds its SLO over it for that window; a model that is
 * really too slow is over it in every window and breaches one window later. A window over the limit is not a pass,
 * so a watch of N windows still commits only after N windows within it.
 */
public final class HealthWatch {

    /** The outcome of one window. */
    public sealed interface Verdict permits Pending, Commit, Breach {
    }

    /** Not decided yet; {@code counted} says whether this window counted as a pass. */
    public record Pending(boolean counted, int passed, int needed) implements Verdict {
    }

    public record Commit(int passed) implements Verdict {
    }

    public record Breach(ReasonCode reason, String detail) implements Verdict {
    }

    private final HealthPolicy policy;
    private int passed;
    private int judged;
    /** The p95 of the previous window when it was over the latency limit, else NaN. */
    private double overBefore = Double.NaN;
    private boolean decided;

    public HealthWatch(HealthPolicy policy) {
        this.policy = Objects.requireNonNull(policy);
    }

    public HealthPolicy policy() {
        return policy;
    }

    public int passed() {
        return passed;
    }

    /**
     * Evaluates one window.
     *
     * @param inferences attempted inferences in the window (successful and failed)
     * @param errors     failed inferences
     * @param latency    latency of the successful ones, null when there were none
     */
    public Verdict observe(long inferences, long errors, LatencyStats latency) {
        if (decided) {
            throw new IllegalStateException("the health watch has already decided");
        }
        if (inferences < Math.max(1, policy.minInferences())) {
            return new Pending(false, passed, policy.windows());
        }
        judged++;
        double errorRate = (double) errors / inferences;
        if (errorRate > policy.maxErrorRate()) {
            decided = true;
            return new Breach(ReasonCode.ERROR_RATE_BREACH, String.format(Locale.ROOT,
                    "error rate %.3f (%d of %d inferences failed) > max %.3f in window %d", errorRate, errors,
                    inferences, policy.maxErrorRate(), judged));
        }
        if (policy.maxP95LatencyMs() > 0 && latency != null && latency.p95() > policy.maxP95LatencyMs()) {
            if (!Double.isNaN(overBefore)) {
                decided = true;
                return new Breach(ReasonCode.LATENCY_SLO_BREACH, String.format(Locale.ROOT,
                        "p95 %.1f ms > SLO %.1f ms in window %d and %.1f ms in the window before", latency.p95(),
                        policy.maxP95LatencyMs(), judged, overBefore));
            }
            overBefore = latency.p95();
            return new Pending(false, passed, policy.windows());
        }
        overBefore = Double.NaN;
        passed++;
        if (passed >= policy.windows()) {
            decided = true;
            return new Commit(passed);
        }
        return new Pending(true, passed, policy.windows());
    }
}
