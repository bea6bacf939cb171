package io.edgefleet.protocol;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Latency percentiles of one telemetry window, in milliseconds. */
@Schema(description = "Inference latency percentiles of one telemetry window, in milliseconds.")
public record LatencyStats(
        @Schema(description = "Median latency, ms.")
        double p50,
        @Schema(description = "95th percentile latency, ms.")
        double p95,
        @Schema(description = "99th percentile latency, ms.")
        double p99,
        @Schema(description = "Largest latency in the window, ms.")
        double max,
        @Schema(description = "Mean latency, ms.")
        double mean) {

    void validate() {
        for (double d : new double[] {p50, p95, p99, max, mean}) {
            Message.require(Double.isFinite(d) && d >= 0, ReasonCode.INVALID_FIELD, "latency values must be finite and >= 0");
        }
        Message.require(p50 <= p95 && p95 <= p99 && p99 <= max, ReasonCode.INVALID_FIELD,
                "latency percentiles must be ordered p50 <= p95 <= p99 <= max");
    }
}
