package io.edgefleet.engine;

/** An engine failure that is not the caller's fault (ONNX Runtime refused a model we produced, I/O trouble). */
public class EngineException extends RuntimeException {
    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }
}
