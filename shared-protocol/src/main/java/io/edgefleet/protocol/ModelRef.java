package io.edgefleet.protocol;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Identifies one model version as installed on a device: the model name, its version number and content hash. */
@Schema(description = "One model version as installed on a device: name, version number and content hash.")
public record ModelRef(
        @Schema(description = "Model name in the registry.")
        String model,
        @Schema(description = "Version number within the model (1, 2, ...).")
        long version,
        @Schema(description = "SHA-256 of the ONNX artifact, 64 lowercase hex digits.")
        String sha256) {

    public String label() {
        return model + ":" + version;
    }

    void validate(String field) {
        Message.requirePresent(model, field + ".model");
        Message.require(version > 0, ReasonCode.INVALID_FIELD, "field '" + field + ".version' must be > 0");
        Message.require(Topics.isSha(sha256), ReasonCode.INVALID_FIELD, "field '" + field + ".sha256' must be 64 hex digits");
    }
}
