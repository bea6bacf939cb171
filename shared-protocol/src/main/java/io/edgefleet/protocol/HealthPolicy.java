package io.edgefleet.protocol;

/**
 * What the agent checks after activating a model before it commits it. Taken from the device
 * class's SLOs by the server and sent with every deploy command.
 *
 * @param maxP95LatencyMs  roll back when a window's p95 latency exceeds this (0 = no latency rule)
 * @param maxErrorRate     roll back when errors / inferences in a window exceed this (0..1)
 * @param windows          number of telemetry windows the health watch lasts; all must pass to commit
 * @param minInferences    a window with fewer inferences does not count (neither pass nor fail)
 */
public record HealthPolicy(double maxP95LatencyMs, double maxErrorRate, int windows, int minInferences) {

    public static HealthPolicy defaults() {
        return new HealthPolicy(0, 0.05, 2, 5);
    }

    void validate() {
        Message.require(maxP95LatencyMs >= 0, ReasonCode.INVALID_FIELD, "health.maxP95LatencyMs must be >= 0");
        Message.require(maxErrorRate >= 0 && maxErrorRate <= 1, ReasonCode.INVALID_FIELD, "health.maxErrorRate must be in [0,1]");
        Message.require(windows >= 1 && windows <= 1000, ReasonCode.INVALID_FIELD, "health.windows must be in [1,1000]");
        Message.require(minInferences >= 0, ReasonCode.INVALID_FIELD, "health.minInferences must be >= 0");
    }
}
