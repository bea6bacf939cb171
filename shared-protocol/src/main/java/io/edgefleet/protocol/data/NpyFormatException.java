package io.edgefleet.protocol.data;

/** A .npy/.npz file that cannot be read; the message says what is wrong and where. */
public class NpyFormatException extends RuntimeException {
    public NpyFormatException(String message) {
        super(message);
    }

    public NpyFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
