package io.edgefleet.engine.eval;

import io.edgefleet.protocol.LatencyStats;

/**
 * Batch-1 latency of base and variant measured in the same loop, alternating which runs first, so machine noise
 * (other processes, frequency changes) hits both alike. These are measurements, not deterministic.
 *
 * @param threads intra-op threads each session used
 * @param runs timed runs per model (after warm-up)
 */
public record Latency(int threads, int runs, LatencyStats base, LatencyStats variant) {

    /** variant p50 / base p50: below 1 means the variant is faster. */
    public double p50Ratio() {
        return base.p50() > 0 ? variant.p50() / base.p50() : Double.NaN;
    }
}
