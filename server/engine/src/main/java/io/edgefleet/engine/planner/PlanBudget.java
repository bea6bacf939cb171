package io.edgefleet.engine.planner;

/**
 * Limits and rules of one search.
 *
 * @param maxCandidates candidates built at most (each is a full compression job)
 * @param maxMinutes wall-clock limit; checked before each candidate starts, so one candidate may run past it
 * @param earlyStopMargin stop at the first candidate that meets every SLO with this relative margin: each cost at
 *     most (1 - margin) x its limit and each accuracy drop at most (1 - margin) x its budget; negative disables
 * @param tiePoints accuracies within this many points count as tied when picking; the smaller artifact wins a tie
 * @param latencyRuns timed batch-1 runs per candidate on the server (0: latency not measured, latency SLOs unknown)
 */
public record PlanBudget(int maxCandidates, double maxMinutes, double earlyStopMargin, double tiePoints,
        int latencyRuns) {
    public static final double DEFAULT_MARGIN = 0.10;
    public static final double DEFAULT_TIE_POINTS = 0.1;

    public PlanBudget {
        if (maxCandidates < 1) {
            throw new IllegalArgumentException("maxCandidates must be >= 1, got " + maxCandidates);
        }
        if (!(maxMinutes > 0)) {
            throw new IllegalArgumentException("maxMinutes must be > 0, got " + maxMinutes);
        }
        if (Double.isNaN(earlyStopMargin) || earlyStopMargin >= 1) {
            throw new IllegalArgumentException("earlyStopMargin must be < 1 (negative disables it), got "
                    + earlyStopMargin);
        }
        if (!(tiePoints >= 0) || latencyRuns < 0) {
            throw new IllegalArgumentException("tiePoints and latencyRuns must be >= 0");
        }
    }

    public static PlanBudget defaults() {
        return new PlanBudget(12, 30, DEFAULT_MARGIN, DEFAULT_TIE_POINTS, 50);
    }

    public boolean earlyStop() {
        return earlyStopMargin >= 0;
    }
}
