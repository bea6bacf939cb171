package io.edgefleet.protocol;

/**
 * Retained on {@code devices/{id}/status}; the agent's Last Will publishes the same record with
 * state OFFLINE so the retained value always tells the truth.
 */
public record DeviceStatus(
        int v,
        String id,
        long ts,
        String deviceId,
        State state,
        ModelRef active,
        ModelRef standby,
        String agentVersion) implements Message {

    public enum State { ONLINE, OFFLINE }

    public static DeviceStatus of(String deviceId, State state, ModelRef active, ModelRef standby, String agentVersion) {
        return new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                deviceId, state, active, standby, agentVersion);
    }

    @Override
    public void validate() {
        Message.requireHeader(this);
        Message.requirePresent(deviceId, "deviceId");
        Message.require(Topics.isId(deviceId), ReasonCode.INVALID_FIELD, "field 'deviceId' is not a valid id");
        Message.requirePresent(state, "state");
        if (active != null) {
            active.validate("active");
        }
        if (standby != null) {
            standby.validate("standby");
        }
    }
}
