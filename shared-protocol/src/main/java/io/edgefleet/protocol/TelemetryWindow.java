package io.edgefleet.protocol;

import io.edgefleet.protocol.drift.DriftReport;

/**
 * Agent to server on {@code devices/{id}/telemetry}: one aggregated window of inference telemetry.
 *
 * @param seq            per-device sequence number, monotonic across restarts; the server detects gaps with it
 * @param energyMj       energy per inference in millijoules (measured or modelled, see {@code energySource}), or null
 * @param drift          overall drift of this window against the reference: the PSI of {@code driftDetail}, or null
 * @param dropped        windows the agent had to drop since the last one it sent (offline buffer overflow)
 * @param replayed       true when sent from the offline buffer after a reconnect
 * @param ackBase        the lowest seq the agent still holds unconfirmed: every seq below it was either confirmed
 *                       by a {@link TelemetryAck} or dropped (and counted in {@code dropped}); null from agents
 *                       that do not read acknowledgements
 * @param energySource   where the energy figures come from: {@code rapl}, {@code hwmon}, {@code model} (CPU time ×
 *                       the class's power model) or {@code model-local} (the agent's own configured watts); null
 *                       from older agents
 * @param energyJoules   energy of the whole window in joules, or null
 * @param driftDetail    drift statistics of the window (overall and per feature), or null
 * @param modes          time per degradation mode and the cascade escalation rate, or null (the model has no
 *                       light variant, or an older agent)
 */
public record TelemetryWindow(
        int v,
        String id,
        long ts,
        String deviceId,
        long seq,
        long windowStart,
        long windowEnd,
        ModelRef model,
        long inferences,
        long errors,
        LatencyStats latency,
        Double energyMj,
        Double drift,
        long dropped,
        boolean replayed,
        Long ackBase,
        String energySource,
        Double energyJoules,
        DriftReport driftDetail,
        ModeTimes modes) implements Message {

    /** Energy sources a window may name. */
    public static final java.util.Set<String> ENERGY_SOURCES = java.util.Set.of("rapl", "hwmon", "model", "model-local");

    /** A window without acknowledgement base, energy source, energy total and drift detail (what an older agent sends). */
    public TelemetryWindow(int v, String id, long ts, String deviceId, long seq, long windowStart, long windowEnd,
                           ModelRef model, long inferences, long errors, LatencyStats latency, Double energyMj,
                           Double drift, long dropped, boolean replayed) {
        this(v, id, ts, deviceId, seq, windowStart, windowEnd, model, inferences, errors, latency, energyMj, drift,
                dropped, replayed, null, null, null, null, null);
    }

    /** A window without degradation modes (what an agent before graceful degradation sends). */
    public TelemetryWindow(int v, String id, long ts, String deviceId, long seq, long windowStart, long windowEnd,
                           ModelRef model, long inferences, long errors, LatencyStats latency, Double energyMj,
                           Double drift, long dropped, boolean replayed, Long ackBase, String energySource,
                           Double energyJoules, DriftReport driftDetail) {
        this(v, id, ts, deviceId, seq, windowStart, windowEnd, model, inferences, errors, latency, energyMj, drift,
                dropped, replayed, ackBase, energySource, energyJoules, driftDetail, null);
    }

    /** The same window again (same id), marked as replayed and carrying the sender's current acknowledgement base. */
    public TelemetryWindow asReplay(Long base) {
        return new TelemetryWindow(v, id, ts, deviceId, seq, windowStart, windowEnd, model, inferences, errors, latency,
                energyMj, drift, dropped, true, base, energySource, energyJoules, driftDetail, modes);
    }

    /** The same window (same id, not marked replayed) carrying the sender's current acknowledgement base. */
    public TelemetryWindow withAckBase(Long base) {
        return new TelemetryWindow(v, id, ts, deviceId, seq, windowStart, windowEnd, model, inferences, errors, latency,
                energyMj, drift, dropped, replayed, base, energySource, energyJoules, driftDetail, modes);
    }

    @Override
    public void validate() {
        Message.requireHeader(this);
        Message.requirePresent(deviceId, "deviceId");
        Message.require(Topics.isId(deviceId), ReasonCode.INVALID_FIELD, "field 'deviceId' is not a valid id");
        Message.require(seq >= 0, ReasonCode.INVALID_FIELD, "field 'seq' must be >= 0");
        Message.require(windowStart > 0 && windowEnd >= windowStart, ReasonCode.INVALID_FIELD,
                "window must have 0 < windowStart <= windowEnd");
        Message.require(inferences >= 0 && errors >= 0, ReasonCode.INVALID_FIELD, "counts must be >= 0");
        Message.require(dropped >= 0, ReasonCode.INVALID_FIELD, "field 'dropped' must be >= 0");
        Message.require(ackBase == null || (ackBase >= 0 && ackBase <= seq), ReasonCode.INVALID_FIELD,
                "field 'ackBase' must be between 0 and seq");
        if (model != null) {
            model.validate("model");
        }
        if (latency != null) {
            latency.validate();
        }
        if (energyMj != null) {
            Message.require(Double.isFinite(energyMj) && energyMj >= 0, ReasonCode.INVALID_FIELD, "field 'energyMj' must be >= 0");
        }
        if (drift != null) {
            Message.require(Double.isFinite(drift) && drift >= 0, ReasonCode.INVALID_FIELD, "field 'drift' must be >= 0");
        }
        if (energySource != null) {
            Message.require(ENERGY_SOURCES.contains(energySource), ReasonCode.INVALID_FIELD,
                    "field 'energySource' must be one of " + ENERGY_SOURCES);
        }
        if (energyJoules != null) {
            Message.require(Double.isFinite(energyJoules) && energyJoules >= 0, ReasonCode.INVALID_FIELD,
                    "field 'energyJoules' must be >= 0");
        }
        if (driftDetail != null) {
            driftDetail.validate();
        }
        if (modes != null) {
            modes.validate();
        }
    }
}
