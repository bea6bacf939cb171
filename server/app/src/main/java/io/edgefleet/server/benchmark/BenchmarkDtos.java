package io.edgefleet.server.benchmark;

import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** REST shapes of device benchmarks and the fitted cost model. */
public final class BenchmarkDtos {
    private BenchmarkDtos() {
    }

    @Schema(description = "Asks devices of the class to run a model version (a base model or a planner variant) "
            + "without activating it and report its latency and energy")
    public record BenchmarkRequest(
            @Schema(description = "Model name", required = true) String model,
            @Schema(description = "Model version to run; a planner variant is a version too", required = true) Long version,
            @Schema(description = "How many online devices of the class run it (default 1, at most 100)") Integer devices,
            @Schema(description = "Benchmark duration on the device, seconds (1-600); default "
                    + "edgefleet.benchmarks.default-seconds when runs is absent too") Integer seconds,
            @Schema(description = "Timed inferences (1-1000000); with seconds, whichever ends first") Integer runs,
            @Schema(description = "Samples per inference (1-256, default 1); only batch-1 reports are used for the "
                    + "cost-model fit") Integer batch,
            @Schema(description = "Pace the timed runs like the device's inference loop: ms between the starts of two "
                    + "runs (1-60000), or 0 for each device's own configured inference interval; absent: back to back. "
                    + "The class's cost model is fitted from the jobs paced like its newest one") Integer intervalMs) {
        /** The request before pacing (kept for callers that do not pace). */
        public BenchmarkRequest(String model, Long version, Integer devices, Integer seconds, Integer runs,
                                Integer batch) {
            this(model, version, devices, seconds, runs, batch, null);
        }
    }

    @Schema(description = "One device's answer to a benchmark job")
    public record DeviceResult(
            @Schema(description = "Device id") String deviceId,
            @Schema(description = "COMPLETED, REFUSED or FAILED") String status,
            @Schema(description = "Reason code of a refusal or failure (NONE when completed)") String reason,
            @Schema(description = "What went wrong, in words") String detail,
            @Schema(description = "Timed inferences") Long inferences,
            @Schema(description = "Samples per inference") Integer batch,
            @Schema(description = "Wall time of the timed runs, seconds") Double seconds,
            @Schema(description = "Median latency per inference, ms") Double p50Ms,
            @Schema(description = "95th percentile latency, ms") Double p95Ms,
            @Schema(description = "99th percentile latency, ms") Double p99Ms,
            @Schema(description = "Mean latency, ms") Double meanMs,
            @Schema(description = "Energy per inference, millijoules") Double energyMj,
            @Schema(description = "Where the energy figure came from: rapl, hwmon, model or model-local") String energySource) {
    }

    @Schema(description = "A benchmark job and the reports received so far")
    public record BenchmarkView(
            @Schema(description = "Job id") String id,
            @Schema(description = "Device class") String deviceClassId,
            @Schema(description = "Model name") String model,
            @Schema(description = "Model version") long version,
            @Schema(description = "Artifact SHA-256") String sha256,
            @Schema(description = "Devices the command went to") List<String> devices,
            @Schema(description = "Requested duration, seconds") Integer seconds,
            @Schema(description = "Requested inference count") Integer runs,
            @Schema(description = "Samples per inference") int batch,
            @Schema(description = "ms between the starts of two timed runs; 0: each device's own inference interval; "
                    + "null: back to back") Integer intervalMs,
            @Schema(description = "RUNNING, COMPLETED (every device measured), PARTIAL (some did), FAILED (none did)") String status,
            @Schema(description = "Progress in words") String message,
            @Schema(description = "Share of devices that answered, 0-1") double progress,
            @Schema(description = "Server's own single-thread batch-1 p50 of the artifact, ms (null until measured)") Double serverP50Ms,
            @Schema(description = "Server's own single-thread batch-1 p95, ms") Double serverP95Ms,
            @Schema(description = "Server's own single-thread batch-1 mean, ms") Double serverMeanMs,
            @Schema(description = "Reports received") List<DeviceResult> results,
            @Schema(description = "Epoch ms the job was created") long createdAt,
            @Schema(description = "Epoch ms the job ended, null while running") Long finishedAt) {
    }

    @Schema(description = "How the planner turns the server's measurement into device latency and energy for a class")
    public record CostModelView(
            @Schema(description = "Device class") String deviceClassId,
            @Schema(description = "fitted (from device benchmark reports) or declared-profile (the class's latencyScale "
                    + "and power model)") String source,
            @Schema(description = "The server figure the p95 line scales: p50 (fitted: the server's median is the "
                    + "artifact's cost, its tail is the server's own noise) or p95 (declared profile)") String p95Basis,
            @Schema(description = "The server figure the mean line scales: p50 (fitted) or mean (declared profile)") String meanBasis,
            @Schema(description = "Device p95 = p95Scale x server {p95Basis} + p95OffsetMs") double p95Scale,
            @Schema(description = "Offset of the p95 line, ms") double p95OffsetMs,
            @Schema(description = "Device mean = meanScale x server {meanBasis} + meanOffsetMs") double meanScale,
            @Schema(description = "Offset of the mean line, ms") double meanOffsetMs,
            @Schema(description = "Fitted device energy per server-ms of median latency, mJ/ms (null: not fitted)") Double energyMjPerServerMs,
            @Schema(description = "Device reports the fit used") int reports,
            @Schema(description = "Distinct artifacts the fit used") int artifacts,
            @Schema(description = "Mean absolute percentage error of the fitted p95 against the reports") Double latencyErrorPercent,
            @Schema(description = "Mean absolute percentage error of the fitted energy against the reports") Double energyErrorPercent,
            @Schema(description = "What a plan says about this model") String summary,
            @Schema(description = "Epoch ms of the fit, null for the declared profile") Long fittedAt,
            @Schema(description = "Pacing of the benchmark jobs the fit used (ms between runs; 0: each device's own "
                    + "inference interval; null: back to back or not fitted)") Integer intervalMs) {
    }
}
