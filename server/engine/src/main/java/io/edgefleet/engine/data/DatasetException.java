package io.edgefleet.engine.data;

import io.edgefleet.engine.BadInputException;

/** A dataset that cannot be read or does not fit the model; the message names the array, expected and found. */
public final class DatasetException extends BadInputException {
    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
