package io.edgefleet.server.api;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The one error vocabulary of the REST API; each code carries its HTTP status. */
@Schema(description = "The one error vocabulary of the API (the document lists each code with its HTTP status).")
public enum ErrorCode {
    MALFORMED_JSON(400),
    VALIDATION_FAILED(400),
    INVALID_ID(400),
    UNKNOWN_DEVICE_CLASS(400),
    UNKNOWN_DEVICE(400),
    UNKNOWN_MODEL(400),
    DEVICE_REVOKED(400),
    NO_TARGETS(400),
    MODEL_EXCEEDS_CLASS_LIMIT(400),
    INVALID_MODEL(400),
    INVALID_DATASET(400),
    UNKNOWN_DATASET(400),
    UNKNOWN_RECIPE(400),
    UNKNOWN_METRIC(400),
    UNAUTHORIZED(401),
    /** Authenticated, but the caller's role may not do this (the message names the roles that may). */
    FORBIDDEN(403),
    NOT_FOUND(404),
    METHOD_NOT_ALLOWED(405),
    NOT_ACCEPTABLE(406),
    ALREADY_EXISTS(409),
    CONFLICT(409),
    LENGTH_REQUIRED(411),
    PAYLOAD_TOO_LARGE(413),
    UNSUPPORTED_MEDIA_TYPE(415),
    BROKER_UNAVAILABLE(503),
    COMPRESSION_QUEUE_FULL(503),
    INTERNAL_ERROR(500);

    private final int status;

    ErrorCode(int status) {
        this.status = status;
    }

    public int status() {
        return status;
    }

    /** The generic code for an HTTP status raised by the framework (routing, content negotiation). */
    public static ErrorCode forStatus(int status) {
        return switch (status) {
            case 400 -> VALIDATION_FAILED;
            case 401 -> UNAUTHORIZED;
            case 403 -> FORBIDDEN;
            case 404 -> NOT_FOUND;
            case 405 -> METHOD_NOT_ALLOWED;
            case 406 -> NOT_ACCEPTABLE;
            case 409 -> CONFLICT;
            case 411 -> LENGTH_REQUIRED;
            case 413 -> PAYLOAD_TOO_LARGE;
            case 415 -> UNSUPPORTED_MEDIA_TYPE;
            case 503 -> BROKER_UNAVAILABLE;
            default -> status >= 500 ? INTERNAL_ERROR : VALIDATION_FAILED;
        };
    }
}
