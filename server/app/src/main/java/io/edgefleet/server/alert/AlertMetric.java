package io.edgefleet.server.alert;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * What a rule watches. Every metric is "bad when the value is above the threshold". Telemetry metrics
 * read the raw windows of the rule's lookback (see {@code telemetry.TelemetryAggregates}); a metric no
 * device reports yet (energy, drift) is a valid rule that simply has no data.
 */
@Schema(description = "What an alert rule watches; every metric is bad when above the threshold.")
public enum AlertMetric {
    /** Largest window p95 latency in milliseconds (an upper bound of the pooled p95); default threshold: the class SLO. */
    P95_LATENCY_MS("EdgefleetLatencySloBreach", true, 0, Double.MAX_VALUE, null),
    /** Errors / inferences. */
    ERROR_RATE("EdgefleetErrorRateHigh", true, 0, 1, 0.05),
    /** Mean estimated energy per inference in millijoules; default threshold: the class energy SLO. */
    ENERGY_MJ_PER_INFERENCE("EdgefleetEnergySloBreach", true, 0, Double.MAX_VALUE, null),
    /** Largest window input-drift score (PSI); 0.2 is the usual "significant shift" mark for PSI. */
    DRIFT_SCORE("EdgefleetDriftHigh", true, 0, Double.MAX_VALUE, 0.2),
    /** Offline devices / devices, by the device's online flag. */
    OFFLINE_SHARE("EdgefleetDevicesOffline", false, 0, 1, 0.2),
    /** Rolled-back deployment targets / targets that finished (committed, rolled back or failed) in the lookback. */
    ROLLBACK_RATE("EdgefleetRollbackRateHigh", false, 0, 1, 0.1);

    private final String defaultName;
    private final boolean telemetry;
    private final double min;
    private final double max;
    private final Double defaultThreshold;

    AlertMetric(String defaultName, boolean telemetry, double min, double max, Double defaultThreshold) {
        this.defaultName = defaultName;
        this.telemetry = telemetry;
        this.min = min;
        this.max = max;
        this.defaultThreshold = defaultThreshold;
    }

    /** The alertname of the built-in rule for this metric, and so the runbook page custom rules share. */
    public String defaultName() {
        return defaultName;
    }

    public boolean fromTelemetry() {
        return telemetry;
    }

    /** Thresholds must lie in {@code [min, max)}: a threshold at the maximum could never be exceeded. */
    public double min() {
        return min;
    }

    public double max() {
        return max;
    }

    /** The threshold of a rule that gives none; null means "the class SLO" (latency, energy). */
    public Double defaultThreshold() {
        return defaultThreshold;
    }

    /** A ratio in [0, 1]: the threshold is required to be below 1. */
    public boolean isRatio() {
        return max == 1;
    }
}
