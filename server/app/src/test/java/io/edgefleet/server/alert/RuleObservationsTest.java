package io.edgefleet.server.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.server.alert.AlertEvaluator.Observation;
import io.edgefleet.server.alert.RuleObservations.ClassSlo;
import io.edgefleet.server.alert.RuleObservations.Count;
import io.edgefleet.server.telemetry.TelemetryAggregates.Group;
import io.edgefleet.server.telemetry.WindowSummary;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RuleObservationsTest {
    static final Map<String, ClassSlo> SLOS = Map.of("gw", new ClassSlo(40, 5.0), "cam", new ClassSlo(100, null));

    static AlertRule rule(AlertMetric metric, AlertScope scope, Double threshold, long minSamples, String classFilter) {
        return new AlertRule("r", metric.defaultName(), metric, scope, classFilter, null, null, null, threshold, minSamples,
                60, 0, Severity.WARNING, AlertAction.NONE, null, null, true, false);
    }

    static Group g(String classId, Long version, long inferences, Double p95, Double energy) {
        return new Group(classId, null, "m", version,
                new WindowSummary(3, 2, inferences, inferences / 10, inferences == 0 ? null : 0.1, p95, energy, null));
    }

    @Test
    void latencyWithoutThresholdUsesEachClassSlo() {
        List<Observation> obs = RuleObservations.fromTelemetry(rule(AlertMetric.P95_LATENCY_MS, AlertScope.VERSION, null, 1, null),
                List.of(g("gw", 1L, 100, 50.0, null), g("cam", 1L, 100, 50.0, null), g("gone", 1L, 100, 50.0, null)), SLOS);
        assertEquals(2, obs.size(), "a class without an SLO row has no threshold, so no data");
        assertEquals(40.0, obs.get(0).threshold());
        assertEquals(true, obs.get(0).breached());
        assertEquals(100.0, obs.get(1).threshold());
        assertEquals(false, obs.get(1).breached());
        assertEquals(Map.of("class", "gw", "model", "m", "version", "1"), obs.get(0).scopeLabels());
    }

    @Test
    void energyAndDriftWithoutDataAreNoObservation() {
        AlertRule energy = rule(AlertMetric.ENERGY_MJ_PER_INFERENCE, AlertScope.VERSION, null, 1, null);
        assertEquals(List.of(), RuleObservations.fromTelemetry(energy, List.of(g("gw", 1L, 100, 50.0, null)), SLOS));
        assertEquals(List.of(), RuleObservations.fromTelemetry(energy, List.of(g("cam", 1L, 100, 50.0, 9.0)), SLOS),
                "cam has no energy SLO");
        assertEquals(1, RuleObservations.fromTelemetry(energy, List.of(g("gw", 1L, 100, 50.0, 9.0)), SLOS).size());
        AlertRule drift = rule(AlertMetric.DRIFT_SCORE, AlertScope.VERSION, null, 1, null);
        assertEquals(List.of(), RuleObservations.fromTelemetry(drift, List.of(g("gw", 1L, 100, 50.0, 9.0)), SLOS));
    }

    @Test
    void filtersAndMinimumSamples() {
        AlertRule r = rule(AlertMetric.ERROR_RATE, AlertScope.VERSION, 0.05, 50, "gw");
        assertEquals(1, RuleObservations.fromTelemetry(r, List.of(g("gw", 1L, 100, 1.0, null), g("gw", 2L, 49, 1.0, null),
                g("cam", 1L, 100, 1.0, null)), SLOS).size());
    }

    @Test
    void ratiosFromCounts() {
        AlertRule r = rule(AlertMetric.OFFLINE_SHARE, AlertScope.CLASS, null, 1, null);
        List<Observation> obs = RuleObservations.fromCounts(r, List.of(new Count("gw", null, null, null, 3, 10),
                new Count("cam", null, null, null, 0, 0)));
        assertEquals(1, obs.size());
        assertEquals(0.3, obs.get(0).value(), 1e-12);
        assertEquals(0.2, obs.get(0).threshold(), "the metric's default threshold");
        assertEquals(Map.of("class", "gw"), obs.get(0).scopeLabels());
    }
}
