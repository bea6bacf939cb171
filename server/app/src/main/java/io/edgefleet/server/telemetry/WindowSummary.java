package io.edgefleet.server.telemetry;

/**
 * What a set of telemetry windows adds up to. The nullable figures are null when no window in the
 * set carries them (no inferences, no latency, no energy or drift reported): "no data", never zero.
 *
 * @param windows              telemetry windows counted
 * @param devices              distinct devices that sent them
 * @param inferences           inferences in them (errors included, as the agent counts them)
 * @param errors               failed inferences in them
 * @param errorRate            errors / inferences, or null without inferences
 * @param p95LatencyMs         the largest window p95 latency in milliseconds: an upper bound of the
 *                             pooled p95 (see {@link TelemetryAggregates}), or null without latency
 * @param energyMjPerInference inference-weighted mean of the windows' energy per inference, millijoules
 * @param driftMax             the largest window drift score
 */
public record WindowSummary(
        long windows,
        long devices,
        long inferences,
        long errors,
        Double errorRate,
        Double p95LatencyMs,
        Double energyMjPerInference,
        Double driftMax) {

    public static final WindowSummary EMPTY = new WindowSummary(0, 0, 0, 0, null, null, null, null);

    public boolean isEmpty() {
        return windows == 0;
    }
}
