package io.edgefleet.agent.inference;

import io.edgefleet.protocol.ReasonCode;

/** A model could not be loaded (LOAD_FAILED) or failed its smoke inference (SMOKE_TEST_FAILED). */
public class ModelException extends Exception {
    private final ReasonCode reason;

    public ModelException(ReasonCode reason, String message) {
        super(message);
        this.reason = reason;
    }

    public ModelException(ReasonCode reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public ReasonCode reason() {
        return reason;
    }
}
