package io.edgefleet.engine.eval;

import io.edgefleet.protocol.LatencyStats;

/**
 * Batch-1 latency of base and variant measured in the same loop, in alternating blocks of warm runs, so machine noise
 * (other processes, frequency changes) hits both alike while each model runs with its own weights in the caches, as
 * on a device serving one model. These are measurements, not deterministic.
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
