package io.edgefleet.server.alert;

import io.edgefleet.server.alert.AlertEvaluator.Observation;
import io.edgefleet.server.telemetry.TelemetryAggregates;
import io.edgefleet.server.telemetry.WindowSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Turns grouped figures into a rule's observations (plain Java): the rule's filters, its minimum samples, its threshold. */
public final class RuleObservations {
    private RuleObservations() {
    }

    /** A class's objectives a rule without a threshold falls back to. */
    public record ClassSlo(double p95LatencyMs, Double energyMjPerInference) {
    }

    /** A ratio's numerator and denominator for one group (offline devices / devices, rollbacks / finished targets). */
    public record Count(String classId, String model, Long version, String device, long bad, long total) {
    }

    public static List<Observation> fromTelemetry(AlertRule rule, List<TelemetryAggregates.Group> groups,
            Map<String, ClassSlo> slos) {
        List<Observation> out = new ArrayList<>();
        for (TelemetryAggregates.Group g : groups) {
            if (!rule.selects(g.classId(), g.modelName(), g.modelVersion(), g.deviceId())) {
                continue;
            }
            WindowSummary s = g.summary();
            if (s.inferences() < Math.max(1, rule.minSamples())) {
                continue;
            }
            Double value = switch (rule.metric()) {
                case P95_LATENCY_MS -> s.p95LatencyMs();
                case ERROR_RATE -> s.errorRate();
                case ENERGY_MJ_PER_INFERENCE -> s.energyMjPerInference();
                case DRIFT_SCORE -> s.driftMax();
                default -> throw new IllegalArgumentException(rule.metric() + " is not a telemetry metric");
            };
            Double threshold = threshold(rule, slos.get(g.classId()));
            if (value == null || threshold == null) {
                continue;
            }
            out.add(new Observation(AlertLabels.scope(rule.scope(), g.classId(), g.modelName(), g.modelVersion(),
                    g.deviceId()), value, threshold));
        }
        return out;
    }

    public static List<Observation> fromCounts(AlertRule rule, List<Count> counts) {
        List<Observation> out = new ArrayList<>();
        for (Count c : counts) {
            if (!rule.selects(c.classId(), c.model(), c.version(), c.device())
                    || c.total() < Math.max(1, rule.minSamples())) {
                continue;
            }
            double threshold = rule.threshold() != null ? rule.threshold() : rule.metric().defaultThreshold();
            out.add(new Observation(AlertLabels.scope(rule.scope(), c.classId(), c.model(), c.version(), c.device()),
                    (double) c.bad() / c.total(), threshold));
        }
        return out;
    }

    /** The rule's threshold, else the metric's default, else the class SLO; null when none applies (no data). */
    public static Double threshold(AlertRule rule, ClassSlo slo) {
        if (rule.threshold() != null) {
            return rule.threshold();
        }
        if (rule.metric().defaultThreshold() != null) {
            return rule.metric().defaultThreshold();
        }
        if (slo == null) {
            return null;
        }
        return switch (rule.metric()) {
            case P95_LATENCY_MS -> slo.p95LatencyMs();
            case ENERGY_MJ_PER_INFERENCE -> slo.energyMjPerInference();
            default -> null;
        };
    }
}
