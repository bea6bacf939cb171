package io.edgefleet.server.model;

import com.fasterxml.jackson.annotation.JsonRawValue;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** JSON shapes of the model registry API. */
public final class ModelDtos {
    private ModelDtos() {
    }

    @Schema(description = "One version of a model in the registry.")
    public record ModelVersionView(
            @Schema(description = "Model name.")
            String name,
            @Schema(description = "Version number (1, 2, ...).")
            long version,
            @Schema(description = "SHA-256 of the ONNX artifact.")
            String sha256,
            @Schema(description = "Artifact size in bytes.")
            long size,
            @Schema(description = "ONNX IR version.")
            long irVersion,
            @Schema(description = "Default-domain opset version.")
            long opset,
            @Schema(description = "Producer named in the ONNX file (e.g. pytorch 2.3).")
            String producer,
            @Schema(description = "Input tensors: name, element type, shape (JSON array).", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.ARRAY)
            @JsonRawValue String inputs,
            @Schema(description = "Output tensors: name, element type, shape (JSON array).", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.ARRAY)
            @JsonRawValue String outputs,
            @Schema(description = "Registration time, epoch milliseconds.")
            long createdAt,
            @Schema(description = "The version it was compressed from; null for an upload.")
            Long parentVersion,
            @Schema(description = "How it was made from its parent (recipe and parameters, JSON object); null "
                    + "for an upload.", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.OBJECT)
            @JsonRawValue String recipe) {

        static ModelVersionView of(ModelVersionEntity e) {
            return new ModelVersionView(e.name, e.version, e.sha256, e.size, e.irVersion, e.opset, e.producer,
                    e.inputs, e.outputs, e.createdAt, e.parentVersion, e.recipe);
        }
    }

    @Schema(description = "A model with its newest version.")
    public record ModelSummary(
            @Schema(description = "Model name.")
            String name,
            @Schema(description = "Number of versions.")
            long versions,
            @Schema(description = "Newest version number.")
            long latestVersion,
            @Schema(description = "SHA-256 of the newest version.")
            String latestSha256,
            @Schema(description = "When the newest version was registered, epoch milliseconds.")
            long updatedAt) {
    }
}
