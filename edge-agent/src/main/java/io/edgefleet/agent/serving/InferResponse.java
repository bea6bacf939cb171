package io.edgefleet.agent.serving;

import java.util.List;

/** The answer to a request: which model and version ran it, the request's id (or null), the outputs. */
public record InferResponse(String modelName, String modelVersion, String id, List<InferOutput> outputs) {

    public InferResponse {
        outputs = List.copyOf(outputs);
    }

    public InferOutput output(String name) {
        return outputs.stream().filter(o -> o.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no output '" + name + "' in " + outputs));
    }
}
