package io.edgefleet.server.benchmark;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;

/** {@code edgefleet.benchmarks.*}: device benchmark jobs. */
@ConfigMapping(prefix = "edgefleet.benchmarks")
public interface BenchmarkConfig {
    /** Time a job waits for reports beyond its benchmark duration (download, load, warm-up, publish). */
    @WithDefault("120s")
    Duration grace();

    /** Timed batch-1 runs of the server's own measurement of the benchmarked artifact (single thread). */
    @WithName("server-runs")
    @WithDefault("100")
    int serverRuns();

    /** Benchmark duration when a request gives neither seconds nor runs. */
    @WithName("default-seconds")
    @WithDefault("10")
    int defaultSeconds();
}
