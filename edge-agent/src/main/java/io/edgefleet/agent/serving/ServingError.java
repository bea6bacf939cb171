package io.edgefleet.agent.serving;

/**
 * The inference API's error vocabulary, mapped once to HTTP status codes (the Open Inference
 * Protocol answers every error with {@code {"error": "<reason>"}} and a fitting status).
 */
public enum ServingError {
    /** Malformed JSON, or tensors that do not fit the model (name, datatype, shape, values). */
    BAD_REQUEST(400),
    /** No such model (or version) on this device. */
    MODEL_NOT_FOUND(404),
    /** No such endpoint. */
    NOT_FOUND(404),
    METHOD_NOT_ALLOWED(405),
    PAYLOAD_TOO_LARGE(413),
    UNSUPPORTED_MEDIA_TYPE(415),
    /** The runtime failed on valid inputs; counted as an inference error in telemetry. */
    INFERENCE_FAILED(500),
    /** The model is known but not loaded (failed to load, or the agent is stopping). */
    MODEL_NOT_READY(503);

    private final int httpStatus;

    ServingError(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    public int httpStatus() {
        return httpStatus;
    }
}
