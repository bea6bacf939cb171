package io.edgefleet.server.telemetry;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;

/** {@code edgefleet.telemetry.*}: how long raw windows and hourly rollups are kept. */
@ConfigMapping(prefix = "edgefleet.telemetry")
public interface TelemetryConfig {

    /** Raw windows older than this (by window end) are deleted once rolled up; alert rules cannot look back further. */
    @WithName("raw-retention")
    @WithDefault("7d")
    Duration rawRetention();

    /** Hourly rollups (per device and per class/model/version) older than this are deleted. */
    @WithName("rollup-retention")
    @WithDefault("400d")
    Duration rollupRetention();

    /** Run the rollup and retention job on a schedule. */
    @WithName("rollup-enabled")
    @WithDefault("true")
    boolean rollupEnabled();

    /** How often the rollup and retention job runs (read by the scheduler as {@code edgefleet.telemetry.rollup-interval}). */
    @WithName("rollup-interval")
    @WithDefault("10m")
    Duration rollupInterval();
}
