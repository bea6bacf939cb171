package io.edgefleet.engine.onnx;

import io.edgefleet.engine.BadInputException;

/** A model file the engine refuses, with a machine-readable reason next to the human-readable message. */
public final class OnnxFormatException extends BadInputException {

    public enum Reason {
        /** The bytes are not a protobuf message at all (wrong file, text, zip, ...). */
        NOT_PROTOBUF,
        /** The protobuf stops in the middle of a field: an interrupted upload or copy. */
        TRUNCATED,
        /** A ModelProto without a graph, or a graph without outputs. */
        NO_GRAPH,
        /** The default-domain opset is outside the range ONNX Runtime runs. */
        UNSUPPORTED_OPSET,
        /** Weights stored outside the file (data_location = EXTERNAL). */
        EXTERNAL_DATA,
        /** Structurally broken: duplicate value producers, undefined references, bad tensor sizes, ... */
        INVALID_MODEL
    }

    private final Reason reason;

    public OnnxFormatException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public OnnxFormatException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
