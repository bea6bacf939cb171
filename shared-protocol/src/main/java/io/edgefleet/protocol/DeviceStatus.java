package io.edgefleet.protocol;

import java.util.List;

/**
 * Retained on {@code devices/{id}/status}; the agent's Last Will publishes the same record with
 * state OFFLINE so the retained value always tells the truth.
 *
 * @param connection id of the MQTT connection this status belongs to, fresh per connect: the ONLINE status
 *                   after a connect and that connection's Last Will carry the same one, so the server knows
 *                   a will ends the connection it last saw come online even though the will was built (and
 *                   timestamped) before it. Null from agents that predate it.
 * @param models     every model the device holds, each with its own active and standby version and update
 *                   state; null from agents that predate several models per device (then {@code active} and
 *                   {@code standby} are the whole truth). {@code active}/{@code standby} stay filled with the
 *                   first model by name, so a server that predates this field keeps working.
 */
public record DeviceStatus(
        int v,
        String id,
        long ts,
        String deviceId,
        State state,
        ModelRef active,
        ModelRef standby,
        String agentVersion,
        String connection,
        List<ModelStatus> models) implements Message {

    /** Upper bound of {@code models}, so one status cannot carry an unbounded list. */
    public static final int MAX_MODELS = 64;

    /** A status without a model list (agents that predate several models per device). */
    public DeviceStatus(int v, String id, long ts, String deviceId, State state, ModelRef active, ModelRef standby,
                        String agentVersion, String connection) {
        this(v, id, ts, deviceId, state, active, standby, agentVersion, connection, null);
    }

    /** A status without a connection id (agents that predate it). */
    public DeviceStatus(int v, String id, long ts, String deviceId, State state, ModelRef active, ModelRef standby,
                        String agentVersion) {
        this(v, id, ts, deviceId, state, active, standby, agentVersion, null, null);
    }

    public enum State { ONLINE, OFFLINE }

    public static DeviceStatus of(String deviceId, State state, ModelRef active, ModelRef standby, String agentVersion) {
        return new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                deviceId, state, active, standby, agentVersion, null, null);
    }

    /** A status of one connection (see {@code connection}). */
    public static DeviceStatus of(String deviceId, State state, ModelRef active, ModelRef standby, String agentVersion,
                                  String connection) {
        return new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                deviceId, state, active, standby, agentVersion, connection, null);
    }

    /** This status with the device's model list (see {@code models}). */
    public DeviceStatus withModels(List<ModelStatus> list) {
        return new DeviceStatus(v, id, ts, deviceId, state, active, standby, agentVersion, connection,
                list == null ? null : List.copyOf(list));
    }

    @Override
    public void validate() {
        Message.requireHeader(this);
        Message.requirePresent(deviceId, "deviceId");
        Message.require(Topics.isId(deviceId), ReasonCode.INVALID_FIELD, "field 'deviceId' is not a valid id");
        Message.requirePresent(state, "state");
        Message.require(connection == null || (!connection.isBlank() && connection.length() <= 64),
                ReasonCode.INVALID_FIELD, "field 'connection' must be 1..64 chars");
        if (active != null) {
            active.validate("active");
        }
        if (standby != null) {
            standby.validate("standby");
        }
        if (models != null) {
            Message.require(models.size() <= MAX_MODELS, ReasonCode.INVALID_FIELD,
                    "field 'models' lists more than " + MAX_MODELS + " models");
            java.util.Set<String> names = new java.util.HashSet<>();
            for (int i = 0; i < models.size(); i++) {
                ModelStatus m = models.get(i);
                Message.require(m != null, ReasonCode.INVALID_FIELD, "field 'models[" + i + "]' is null");
                m.validate("models[" + i + "]");
                Message.require(names.add(m.name()), ReasonCode.INVALID_FIELD,
                        "field 'models' names model '" + m.name() + "' twice");
            }
        }
    }
}
