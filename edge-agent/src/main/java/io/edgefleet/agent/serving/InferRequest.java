package io.edgefleet.agent.serving;

import java.util.List;
import java.util.Objects;

/**
 * An inference request: an optional id echoed in the response, the inputs, and optionally the names
 * of the outputs wanted (empty = all the outputs the API can return).
 */
public record InferRequest(String id, List<InferInput> inputs, List<String> outputs) {

    public InferRequest {
        inputs = List.copyOf(Objects.requireNonNull(inputs, "inputs"));
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
    }

    public static InferRequest of(InferInput... inputs) {
        return new InferRequest(null, List.of(inputs), List.of());
    }
}
