package io.edgefleet.protocol;

/**
 * Agent to server on {@code devices/{id}/benchmark}: the outcome of one BENCHMARK command. A completed benchmark
 * carries the latency distribution of its timed inferences (each inference is one batch of {@code batch} samples),
 * their count and wall time, and the energy per inference with the source it came from (the telemetry window's
 * vocabulary: {@code rapl}, {@code hwmon}, {@code model}, {@code model-local}). A refused or failed one carries the
 * reason and a detail instead.
 *
 * @param jobId the command's {@code deploymentId}: the server's benchmark job
 * @param model the artifact measured
 */
public record BenchmarkReport(
        int v,
        String id,
        long ts,
        String deviceId,
        String jobId,
        ModelRef model,
        Status status,
        ReasonCode reason,
        String detail,
        Long inferences,
        Integer batch,
        Double seconds,
        LatencyStats latency,
        Double energyMj,
        String energySource) implements Message {

    /** COMPLETED: measured. REFUSED: not started (busy, bad command). FAILED: started but could not finish. */
    public enum Status { COMPLETED, REFUSED, FAILED }

    public static BenchmarkReport completed(String deviceId, String jobId, ModelRef model, long inferences, int batch,
                                            double seconds, LatencyStats latency, Double energyMj, String energySource) {
        return new BenchmarkReport(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(), deviceId, jobId,
                model, Status.COMPLETED, ReasonCode.NONE, null, inferences, batch, seconds, latency, energyMj, energySource);
    }

    public static BenchmarkReport failed(String deviceId, String jobId, ModelRef model, Status status, ReasonCode reason,
                                         String detail) {
        return new BenchmarkReport(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(), deviceId, jobId,
                model, status, reason, detail == null || detail.length() <= 4000 ? detail : detail.substring(0, 4000),
                null, null, null, null, null, null);
    }

    @Override
    public void validate() {
        Message.requireHeader(this);
        Message.requirePresent(deviceId, "deviceId");
        Message.require(Topics.isId(deviceId), ReasonCode.INVALID_FIELD, "field 'deviceId' is not a valid id");
        Message.requirePresent(jobId, "jobId");
        Message.require(!jobId.isBlank() && jobId.length() <= 64, ReasonCode.INVALID_FIELD, "field 'jobId' must be 1..64 chars");
        Message.requirePresent(status, "status");
        if (model != null) {
            model.validate("model");
        }
        if (detail != null) {
            Message.require(detail.length() <= 4096, ReasonCode.INVALID_FIELD, "field 'detail' is longer than 4096 chars");
        }
        if (status == Status.COMPLETED) {
            Message.requirePresent(model, "model");
            Message.requirePresent(inferences, "inferences");
            Message.requirePresent(latency, "latency");
            Message.require(inferences > 0, ReasonCode.INVALID_FIELD, "field 'inferences' must be > 0");
            latency.validate();
        }
        if (batch != null) {
            Message.require(batch >= 1, ReasonCode.INVALID_FIELD, "field 'batch' must be >= 1");
        }
        if (seconds != null) {
            Message.require(Double.isFinite(seconds) && seconds >= 0, ReasonCode.INVALID_FIELD, "field 'seconds' must be >= 0");
        }
        if (energyMj != null) {
            Message.require(Double.isFinite(energyMj) && energyMj >= 0, ReasonCode.INVALID_FIELD,
                    "field 'energyMj' must be finite and >= 0");
        }
        if (energySource != null) {
            Message.require(energySource.length() <= 32, ReasonCode.INVALID_FIELD, "field 'energySource' is too long");
        }
    }
}
