package io.edgefleet.protocol;

/** Latency percentiles of one telemetry window, in milliseconds. */
public record LatencyStats(double p50, double p95, double p99, double max, double mean) {

    void validate() {
        for (double d : new double[] {p50, p95, p99, max, mean}) {
            Message.require(Double.isFinite(d) && d >= 0, ReasonCode.INVALID_FIELD, "latency values must be finite and >= 0");
        }
        Message.require(p50 <= p95 && p95 <= p99 && p99 <= max, ReasonCode.INVALID_FIELD,
                "latency percentiles must be ordered p50 <= p95 <= p99 <= max");
    }
}
