package io.edgefleet.simulator;

/** The server answered with an error (or not at all); the message says which request and why. */
public class ApiException extends RuntimeException {
    private final int status;
    private final String code;

    public ApiException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public ApiException(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
        this.code = null;
    }

    /** HTTP status, or 0 when the server could not be reached. */
    public int status() {
        return status;
    }

    /** The server's error code ({@code {"error": CODE}}), when it sent one. */
    public String code() {
        return code;
    }
}
