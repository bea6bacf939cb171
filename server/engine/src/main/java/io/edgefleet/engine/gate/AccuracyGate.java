package io.edgefleet.engine.gate;

import io.edgefleet.engine.eval.Quality;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Rejects a variant that loses more than a budget of accuracy, in percentage points, overall or in any single cohort.
 * With labels the accuracy is top-1 against them; without, it is top-1 agreement with the base model (the base
 * scores 100). A variant producing NaN or infinity for any sample is rejected whatever the budget.
 *
 * @param overallPoints allowed drop over all samples, e.g. 0.5 means 97.0 % may become 96.5 %
 * @param cohortPoints allowed drop within each cohort
 */
public record AccuracyGate(double overallPoints, double cohortPoints) {
    /** Drops this close to the budget count as within it, so exact-budget results do not flip on rounding. */
    private static final double EPSILON = 1e-9;

    public AccuracyGate {
        if (!(overallPoints >= 0) || !(cohortPoints >= 0) || Double.isInfinite(overallPoints)
                || Double.isInfinite(cohortPoints)) {
            throw new IllegalArgumentException("budgets must be finite and >= 0, got overall " + overallPoints
                    + ", cohort " + cohortPoints);
        }
    }

    public static AccuracyGate defaults() {
        return new AccuracyGate(0.5, 1.0);
    }

    /** Verdict for a measured comparison; {@code null} (nothing measured) is a rejection. */
    public Verdict evaluate(Quality quality) {
        SortedMap<String, Double> numbers = new TreeMap<>();
        numbers.put("budget.overallPoints", overallPoints);
        numbers.put("budget.cohortPoints", cohortPoints);
        List<String> reasons = new ArrayList<>();
        if (quality == null) {
            reasons.add("no validation or calibration data, so accuracy could not be measured; "
                    + "the gate cannot pass a variant it has not measured");
            return new Verdict(false, reasons, "rejected: accuracy not measured", numbers);
        }
        String metric = quality.labeled() ? "top-1 accuracy" : "top-1 agreement with the base model";
        check(quality.overall(), overallPoints, metric, numbers, reasons, "overall");
        for (Quality.Slice c : quality.cohorts()) {
            check(c, cohortPoints, metric, numbers, reasons, "cohort." + c.cohort());
        }
        String summary;
        if (reasons.isEmpty()) {
            summary = String.format(Locale.ROOT, "passed: %s drop %.2f points (budget %.2f)%s", metric,
                    quality.overall().dropPoints(), overallPoints,
                    quality.cohorts().isEmpty() ? "" : String.format(Locale.ROOT,
                            ", worst cohort drop %.2f points (budget %.2f)", worstCohortDrop(quality), cohortPoints));
        } else {
            summary = "rejected: " + reasons.size() + (reasons.size() == 1 ? " reason" : " reasons");
        }
        return new Verdict(reasons.isEmpty(), reasons, summary, numbers);
    }

    private static double worstCohortDrop(Quality q) {
        double worst = Double.NEGATIVE_INFINITY;
        for (Quality.Slice c : q.cohorts()) {
            worst = Math.max(worst, c.dropPoints());
        }
        return worst;
    }

    private static void check(Quality.Slice s, double budget, String metric, SortedMap<String, Double> numbers,
            List<String> reasons, String key) {
        double drop = s.dropPoints();
        numbers.put(key + ".samples", (double) s.samples());
        numbers.put(key + ".basePercent", s.basePercent());
        numbers.put(key + ".variantPercent", s.variantPercent());
        numbers.put(key + ".dropPoints", drop);
        numbers.put(key + ".nonFinite", (double) s.nonFinite());
        if (s.nonFinite() > 0) {
            reasons.add(String.format(Locale.ROOT, "%s: the variant produced NaN or infinite outputs for %d of %d "
                    + "samples", s.label(), s.nonFinite(), s.samples()));
        }
        if (drop > budget + EPSILON) {
            reasons.add(String.format(Locale.ROOT, "%s: %s drops %.2f points (base %.2f %%, variant %.2f %%, "
                    + "%d samples), over the budget of %.2f points", s.label(), metric, drop, s.basePercent(),
                    s.variantPercent(), s.samples(), budget));
        }
    }
}
