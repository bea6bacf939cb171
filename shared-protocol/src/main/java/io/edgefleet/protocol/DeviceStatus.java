package io.edgefleet.protocol;

/**
 * Retained on {@code devices/{id}/status}; the agent's Last Will publishes the same record with
 * state OFFLINE so the retained value always tells the truth.
 *
 * @param connection id of the MQTT connection this status belongs to, fresh per connect: the ONLINE status
 *                   after a connect and that connection's Last Will carry the same one, so the server knows
 *                   a will ends the connection it last saw come online even though the will was built (and
 *                   timestamped) before it. Null from agents that predate it.
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
        String connection) implements Message {

    /** A status without a connection id (agents that predate it). */
    public DeviceStatus(int v, String id, long ts, String deviceId, State state, ModelRef active, ModelRef standby,
                        String agentVersion) {
        this(v, id, ts, deviceId, state, active, standby, agentVersion, null);
    }

    public enum State { ONLINE, OFFLINE }

    public static DeviceStatus of(String deviceId, State state, ModelRef active, ModelRef standby, String agentVersion) {
        return new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                deviceId, state, active, standby, agentVersion, null);
    }

    /** A status of one connection (see {@code connection}). */
    public static DeviceStatus of(String deviceId, State state, ModelRef active, ModelRef standby, String agentVersion,
                                  String connection) {
        return new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                deviceId, state, active, standby, agentVersion, connection);
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
    }
}
