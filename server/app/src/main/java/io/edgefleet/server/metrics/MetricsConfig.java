package io.edgefleet.server.metrics;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;

/** {@code edgefleet.metrics.*}: how the fleet meters on {@code /q/metrics} are computed. */
@ConfigMapping(prefix = "edgefleet.metrics")
public interface MetricsConfig {

    /** How often gauges are recomputed and counters advanced (read by the scheduler as {@code edgefleet.metrics.refresh-interval}). */
    @WithName("refresh-interval")
    @WithDefault("15s")
    Duration refreshInterval();

    /** The span the per-version telemetry gauges (latency, error ratio, energy, drift) cover. */
    @WithName("latency-window")
    @WithDefault("60s")
    Duration latencyWindow();
}
