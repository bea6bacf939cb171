package io.edgefleet.agent.serving;

/** A request the inference API refuses or cannot answer, with the reason a client is shown. */
public final class ServingException extends Exception {
    private final ServingError error;

    public ServingException(ServingError error, String reason) {
        super(reason);
        this.error = error;
    }

    public ServingException(ServingError error, String reason, Throwable cause) {
        super(reason, cause);
        this.error = error;
    }

    public ServingError error() {
        return error;
    }
}
