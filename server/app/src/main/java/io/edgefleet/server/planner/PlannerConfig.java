package io.edgefleet.server.planner;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

/** {@code edgefleet.planner.*}: the plan job pool and the defaults of a plan's budget. */
@ConfigMapping(prefix = "edgefleet.planner")
public interface PlannerConfig {
    /** Plan job threads; each plan runs its candidates one after another. */
    @WithDefault("1")
    int workers();

    /** Plans waiting beyond the running ones; more get 503. */
    @WithName("max-queued")
    @WithDefault("8")
    int maxQueued();

    /** ONNX Runtime intra-op threads per candidate evaluation (the declared latency scale assumes 1). */
    @WithName("eval-threads")
    @WithDefault("1")
    int evalThreads();

    /** Default timed batch-1 runs per candidate. */
    @WithName("latency-runs")
    @WithDefault("50")
    int latencyRuns();

    /** Default candidate budget of a plan. */
    @WithName("max-candidates")
    @WithDefault("12")
    int maxCandidates();

    /** Default time budget of a plan, minutes. */
    @WithName("max-minutes")
    @WithDefault("30")
    double maxMinutes();
}
