package io.edgefleet.engine.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.eval.Quality;
import java.util.List;
import org.junit.jupiter.api.Test;

class AccuracyGateTest {
    final AccuracyGate gate = new AccuracyGate(0.5, 1.0);

    static Quality.Slice labelled(Long cohort, int n, double base, double variant) {
        return new Quality.Slice(cohort, n, base, variant, 0.99, 0.999, 0.98, 0.1, 0);
    }

    static Quality labelledQuality(Quality.Slice overall, Quality.Slice... cohorts) {
        return new Quality(true, "logits", overall, List.of(cohorts));
    }

    @Test
    void withinBudgetPasses() {
        Verdict v = gate.evaluate(labelledQuality(labelled(null, 1000, 0.970, 0.966),
                labelled(0L, 500, 0.96, 0.955), labelled(1L, 500, 0.98, 0.977)));
        assertTrue(v.passed(), v.reasons().toString());
        assertTrue(v.reasons().isEmpty());
        assertEquals(0.4, v.numbers().get("overall.dropPoints"), 1e-9);
        assertEquals(0.5, v.numbers().get("cohort.0.dropPoints"), 1e-9);
        assertEquals(500.0, v.numbers().get("cohort.1.samples"));
        assertTrue(v.summary().startsWith("passed"), v.summary());
    }

    @Test
    void overallDropOverBudgetIsRejectedWithNumbers() {
        Verdict v = gate.evaluate(labelledQuality(labelled(null, 400, 0.97, 0.964)));
        assertFalse(v.passed());
        assertEquals(1, v.reasons().size());
        String r = v.reasons().get(0);
        assertTrue(r.contains("overall") && r.contains("0.60 points") && r.contains("base 97.00 %")
                && r.contains("variant 96.40 %") && r.contains("400 samples") && r.contains("budget of 0.50"), r);
        assertEquals(0.6, v.numbers().get("overall.dropPoints"), 1e-9);
    }

    @Test
    void oneBadCohortIsEnoughToReject() {
        Verdict v = gate.evaluate(labelledQuality(labelled(null, 1000, 0.970, 0.968),
                labelled(0L, 800, 0.97, 0.972), labelled(7L, 200, 0.97, 0.955)));
        assertFalse(v.passed());
        assertEquals(1, v.reasons().size());
        assertTrue(v.reasons().get(0).startsWith("cohort 7:") && v.reasons().get(0).contains("1.50 points"),
                v.reasons().get(0));
        assertEquals(-0.2, v.numbers().get("cohort.0.dropPoints"), 1e-9);
    }

    @Test
    void exactBudgetPassesAndGainsPass() {
        assertTrue(gate.evaluate(labelledQuality(labelled(null, 100, 0.9, 0.895))).passed());
        assertTrue(gate.evaluate(labelledQuality(labelled(null, 100, 0.9, 0.95))).passed());
    }

    @Test
    void nonFiniteOutputsRejectWhateverTheBudget() {
        Quality.Slice nan = new Quality.Slice(null, 10, 0.9, 0.9, 1.0, 1.0, 0.0, Double.POSITIVE_INFINITY, 1);
        Verdict v = new AccuracyGate(100, 100).evaluate(labelledQuality(nan));
        assertFalse(v.passed());
        assertTrue(v.reasons().get(0).contains("NaN or infinite outputs for 1 of 10"), v.reasons().get(0));
    }

    @Test
    void withoutLabelsAgreementIsTheScore() {
        Quality.Slice s = new Quality.Slice(null, 200, null, null, 0.99, 0.999, 0.9, 0.3, 0);
        Verdict v = gate.evaluate(new Quality(false, "y", s, List.of()));
        assertFalse(v.passed(), "1 point of disagreement exceeds 0.5");
        assertTrue(v.reasons().get(0).contains("agreement with the base model"), v.reasons().get(0));
        assertEquals(100.0, v.numbers().get("overall.basePercent"));
        assertTrue(new AccuracyGate(1.0, 1.0).evaluate(new Quality(false, "y", s, List.of())).passed());
    }

    @Test
    void nothingMeasuredIsARejection() {
        Verdict v = gate.evaluate(null);
        assertFalse(v.passed());
        assertTrue(v.reasons().get(0).contains("could not be measured"), v.reasons().get(0));
    }

    @Test
    void budgetsMustBeSane() {
        assertThrows(IllegalArgumentException.class, () -> new AccuracyGate(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> new AccuracyGate(1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new AccuracyGate(Double.POSITIVE_INFINITY, 1));
    }
}
