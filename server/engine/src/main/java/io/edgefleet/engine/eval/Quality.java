package io.edgefleet.engine.eval;

import java.util.List;

/**
 * Accuracy of a base model and a variant on one dataset, overall and per cohort.
 *
 * @param labeled whether the dataset had labels (then accuracy is top-1 against them; otherwise the gate uses top-1
 *     agreement with the base model)
 * @param outputName the output that was compared
 * @param overall all samples
 * @param cohorts one slice per cohort id, ascending; empty without cohort ids
 */
public record Quality(boolean labeled, String outputName, Slice overall, List<Slice> cohorts) {

    public Quality {
        cohorts = List.copyOf(cohorts);
    }

    /**
     * Figures for a set of samples. Accuracies are fractions in [0, 1] and null without labels.
     *
     * @param cohort the cohort id, or null for the overall slice
     * @param top1Agreement fraction of samples where base and variant predict the same class
     * @param meanCosine mean over samples of the cosine similarity between base and variant outputs
     * @param worstCosine the lowest per-sample cosine
     * @param maxAbsError largest absolute difference of any output element
     * @param nonFinite samples where the variant produced NaN or infinity
     */
    public record Slice(Long cohort, int samples, Double baseAccuracy, Double variantAccuracy, double top1Agreement,
            double meanCosine, double worstCosine, double maxAbsError, int nonFinite) {

        /** The reference score in percent: base accuracy with labels, 100 (agreement with itself) without. */
        public double basePercent() {
            return baseAccuracy != null ? 100 * baseAccuracy : 100.0;
        }

        /** The variant's score in percent: its accuracy with labels, its agreement with the base without. */
        public double variantPercent() {
            return variantAccuracy != null ? 100 * variantAccuracy : 100 * top1Agreement;
        }

        /** How many percentage points the variant loses against the base (negative when it gains). */
        public double dropPoints() {
            return basePercent() - variantPercent();
        }

        public String label() {
            return cohort == null ? "overall" : "cohort " + cohort;
        }
    }
}
