package io.edgefleet.engine.eval;

import io.edgefleet.engine.EngineException;

/**
 * ONNX Runtime refused to create a session for a model. For a user's model that is bad input; for a variant the
 * engine produced it is an engine bug. The caller knows which and maps it.
 */
public final class ModelLoadException extends EngineException {
    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
