package io.edgefleet.agent.inference;

import java.nio.file.Path;

/**
 * Loads model files into something that can run inferences. The ONNX Runtime implementation is
 * {@link OrtModelRunner}; the update state machine only sees this interface, so it is tested
 * without native code.
 */
public interface ModelRunner {
    /** Loads a model; a file the runtime rejects is a {@link ModelException} with reason LOAD_FAILED. */
    LoadedModel load(Path modelFile) throws ModelException;
}
