package io.edgefleet.protocol;

/**
 * Agent to server on {@code devices/{id}/telemetry}: one aggregated window of inference telemetry.
 *
 * @param seq            per-device sequence number, monotonic across restarts; the server detects gaps with it
 * @param energyMj       estimated energy per inference in millijoules from the device power model, or null
 * @param drift          input drift score of this window against the reference (PSI), or null
 * @param dropped        windows the agent had to drop since the last one it sent (offline buffer overflow)
 * @param replayed       true when sent from the offline buffer after a reconnect
 * @param ackBase        the lowest seq the agent still holds unconfirmed: every seq below it was either confirmed
 *                       by a {@link TelemetryAck} or dropped (and counted in {@code dropped}); null from agents
 *                       that do not read acknowledgements
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
        Long ackBase) implements Message {

    /** A window from an agent that does not track acknowledgements (no {@code ackBase}). */
    public TelemetryWindow(int v, String id, long ts, String deviceId, long seq, long windowStart, long windowEnd,
                           ModelRef model, long inferences, long errors, LatencyStats latency, Double energyMj,
                           Double drift, long dropped, boolean replayed) {
        this(v, id, ts, deviceId, seq, windowStart, windowEnd, model, inferences, errors, latency, energyMj, drift,
                dropped, replayed, null);
    }

    /** The same window again, marked as replayed and carrying the sender's current acknowledgement base. */
    public TelemetryWindow asReplay(Long base) {
        return new TelemetryWindow(v, id, ts, deviceId, seq, windowStart, windowEnd, model, inferences, errors, latency,
                energyMj, drift, dropped, true, base);
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
    }
}
