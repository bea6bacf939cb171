package io.edgefleet.agent.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import java.util.Map;

/** Supplies the inputs of one inference. Implementations own whatever tensors they cache. */
interface InputFeed extends AutoCloseable {

    /** Inputs for the next inference, and whether the caller must close them after the run. */
    record Inputs(Map<String, OnnxTensor> tensors, boolean callerCloses) {
    }

    Inputs next() throws OrtException;

    @Override
    void close();
}
