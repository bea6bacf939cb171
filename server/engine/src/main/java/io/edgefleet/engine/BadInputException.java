package io.edgefleet.engine;

/**
 * Input the engine cannot work with (a broken model file, a dataset that does not fit the model, an unknown recipe).
 * Callers map it to a client error: HTTP 4xx, CLI exit code 2. Anything else escaping the engine is an internal error.
 */
public class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
