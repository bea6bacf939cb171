package io.edgefleet.engine.quantize;

import io.edgefleet.engine.onnx.OnnxModel;
import java.util.List;

/** A quantized model and the per-node decisions that produced it. */
public record QuantizationResult(OnnxModel model, List<NodeDecision> decisions) {
    public QuantizationResult {
        decisions = List.copyOf(decisions);
    }

    public long quantizedCount() {
        return decisions.stream().filter(NodeDecision::quantized).count();
    }
}
