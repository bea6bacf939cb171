package io.edgefleet.server.model;

import com.fasterxml.jackson.annotation.JsonRawValue;

/** JSON shapes of the model registry API. */
public final class ModelDtos {
    private ModelDtos() {
    }

    public record ModelVersionView(
            String name,
            long version,
            String sha256,
            long size,
            long irVersion,
            long opset,
            String producer,
            @JsonRawValue String inputs,
            @JsonRawValue String outputs,
            long createdAt,
            Long parentVersion,
            @JsonRawValue String recipe) {

        static ModelVersionView of(ModelVersionEntity e) {
            return new ModelVersionView(e.name, e.version, e.sha256, e.size, e.irVersion, e.opset, e.producer,
                    e.inputs, e.outputs, e.createdAt, e.parentVersion, e.recipe);
        }
    }

    public record ModelSummary(String name, long versions, long latestVersion, String latestSha256, long updatedAt) {
    }
}
