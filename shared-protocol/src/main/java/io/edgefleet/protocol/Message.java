package io.edgefleet.protocol;

/**
 * Every JSON message of protocol v1 carries a version, a message id (receivers de-duplicate on it)
 * and the sender's timestamp in epoch milliseconds.
 */
public interface Message {
    int v();

    String id();

    long ts();

    /** Throws {@link ProtocolException} (MISSING_FIELD / INVALID_FIELD) when a required field is absent or wrong. */
    void validate();

    static void require(boolean ok, ReasonCode reason, String message) {
        if (!ok) {
            throw new ProtocolException(reason, message);
        }
    }

    static void requirePresent(Object value, String field) {
        require(value != null, ReasonCode.MISSING_FIELD, "missing field '" + field + "'");
    }

    static void requireHeader(Message m) {
        require(m.v() == Protocol.VERSION, ReasonCode.UNSUPPORTED_VERSION,
                "protocol version " + m.v() + " is not supported (this side speaks " + Protocol.VERSION + ")");
        requirePresent(m.id(), "id");
        require(!m.id().isBlank() && m.id().length() <= 128, ReasonCode.INVALID_FIELD, "field 'id' must be 1..128 chars");
        require(m.ts() > 0, ReasonCode.INVALID_FIELD, "field 'ts' must be a positive epoch-millis timestamp");
    }
}
