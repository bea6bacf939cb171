package io.edgefleet.protocol;

/** A payload or topic that does not follow protocol v1. Carries the reason code to report. */
public class ProtocolException extends RuntimeException {
    private final ReasonCode reason;

    public ProtocolException(ReasonCode reason, String message) {
        super(message);
        this.reason = reason;
    }

    public ProtocolException(ReasonCode reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public ReasonCode reason() {
        return reason;
    }
}
