package io.edgefleet.engine.planner;

import java.util.List;
import java.util.SortedMap;

/**
 * The outcome of planning one model for one device class, written as JSON ({@link PlanWriter#json}) and as an HTML
 * page with a Pareto plot ({@link PlanWriter#html}).
 *
 * @param stoppedBecause why the search ended: every candidate tried, early stop, budget, ...
 * @param skipped recipes and grid points not tried, with the reason
 * @param candidates every candidate tried, in search order
 * @param frontier ids of the Pareto-optimal evaluated candidates (accuracy up; device latency, bytes, energy down)
 * @param choice id of the chosen candidate; null when none meets every SLO
 * @param reason why it was chosen, or that no candidate meets every SLO
 * @param closest when there is no choice: the nearest candidates and which SLO each misses
 * @param baselines the uncompressed model and the aggressive reference (of the chosen candidate's recipe, or the
 *     first evaluated one when there is no choice)
 */
public record Plan(String engineVersion, ModelRef model, String deviceClass, DataRef calibration, DataRef validation,
        Sources sources, PlanBudget budget, String pickRule, String stoppedBecause, List<String> skipped,
        List<CandidateResult> candidates, List<String> frontier, String choice, String reason, List<Closest> closest,
        List<Baseline> baselines, double seconds) {

    public Plan {
        skipped = List.copyOf(skipped);
        candidates = List.copyOf(candidates);
        frontier = List.copyOf(frontier);
        closest = List.copyOf(closest);
        baselines = List.copyOf(baselines);
    }

    public record ModelRef(String name, String sha256, long bytes) {
    }

    /** A dataset by content hash; null in the plan when not given. */
    public record DataRef(String source, String sha256, int samples, boolean labels, boolean cohorts) {
    }

    /**
     * Where every cost figure comes from, in words.
     *
     * @param costModel {@link CostModel#name()}
     */
    public record Sources(String costModel, String latency, String energy, String memory, String accuracy) {
    }

    public enum Verdict {
        MET,
        MISSED,
        /** could not be checked (no measurement, no power model): never counts as met */
        UNKNOWN
    }

    /**
     * One objective checked for one candidate.
     *
     * @param slo e.g. {@code p95LatencyMs}, {@code modelBytes}, {@code accuracy.overall}
     * @param limit the class's limit (for accuracy: the budget in points)
     * @param value the candidate's figure (for accuracy: the drop in points); null when unknown
     */
    public record SloCheck(String slo, String unit, double limit, Double value, Verdict verdict, String note) {
    }

    public enum Status {
        EVALUATED,
        FAILED
    }

    /**
     * One candidate tried.
     *
     * @param accuracyPercent top-1 accuracy against the labels, or top-1 agreement with the base without labels
     * @param peakMemoryBytes estimate, see {@link Sources#memory()}
     * @param meetsAll every SLO MET
     * @param withMargin every SLO met with the budget's early-stop margin
     */
    public record CandidateResult(int index, String id, String recipe, SortedMap<String, String> params,
            List<String> requires, Status status, String error, String sha256, Long bytes, Long macs,
            Double serverP50Ms, Double serverP95Ms, Double deviceP95Ms, Double energyMj, Long peakMemoryBytes,
            Double accuracyPercent, Double dropPoints, Double worstCohortDropPoints, String gate,
            List<SloCheck> slos, boolean meetsAll, boolean withMargin, boolean onFrontier, double seconds) {
        public CandidateResult {
            requires = List.copyOf(requires);
            slos = slos == null ? List.of() : List.copyOf(slos);
        }

        public List<SloCheck> misses() {
            return slos.stream().filter(s -> s.verdict() != Verdict.MET).toList();
        }

        CandidateResult onFrontier(boolean on) {
            return new CandidateResult(index, id, recipe, params, requires, status, error, sha256, bytes, macs,
                    serverP50Ms, serverP95Ms, deviceP95Ms, energyMj, peakMemoryBytes, accuracyPercent, dropPoints,
                    worstCohortDropPoints, gate, slos, meetsAll, withMargin, on, seconds);
        }
    }

    /** A candidate near the objectives and, in words, what it misses. */
    public record Closest(String id, List<String> misses) {
        public Closest {
            misses = List.copyOf(misses);
        }
    }

    /** @param role {@code uncompressed} or {@code aggressive-reference} */
    public record Baseline(String role, String description, String sha256, Long bytes, Long macs,
            Double accuracyPercent, Double dropPoints) {
    }

    public CandidateResult chosen() {
        return choice == null ? null : candidates.stream().filter(c -> c.id().equals(choice)).findFirst()
                .orElse(null);
    }
}
