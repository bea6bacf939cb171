package io.edgefleet.protocol;

/**
 * Server to agent on {@code devices/{id}/ack} (QoS 0, not retained): every telemetry window of this
 * device with a seq up to and including {@code seq} is committed to the server's database, so the
 * agent may forget them. Cumulative: a lost ack is repaired by the next one, or by the agent
 * replaying what is still unconfirmed (the server stores a window once per message id).
 */
public record TelemetryAck(int v, String id, long ts, String deviceId, long seq) implements Message {

    public static TelemetryAck of(String deviceId, long seq) {
        return new TelemetryAck(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(), deviceId, seq);
    }

    @Override
    public void validate() {
        Message.requireHeader(this);
        Message.requirePresent(deviceId, "deviceId");
        Message.require(Topics.isId(deviceId), ReasonCode.INVALID_FIELD, "field 'deviceId' is not a valid id");
        Message.require(seq >= -1, ReasonCode.INVALID_FIELD, "field 'seq' must be >= -1");
    }
}
