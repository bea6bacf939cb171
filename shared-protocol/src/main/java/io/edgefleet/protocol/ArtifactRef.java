package io.edgefleet.protocol;

/**
 * Points a device at an artifact: where its manifest and chunks are published (the class topic
 * tree) and what the result must hash to. The signed manifest is authoritative; this is the pointer.
 */
public record ArtifactRef(String classId, ModelRef model, long size, String manifestTopic) {

    void validate() {
        validate("artifact");
    }

    /** Checks the pointer, naming fields under {@code field} (e.g. {@code artifact} or {@code fallback}). */
    void validate(String field) {
        Message.requirePresent(classId, field + ".classId");
        Message.require(Topics.isId(classId), ReasonCode.INVALID_FIELD, "field '" + field + ".classId' is not a valid id");
        Message.requirePresent(model, field + ".model");
        model.validate(field + ".model");
        Message.require(size > 0, ReasonCode.INVALID_FIELD, "field '" + field + ".size' must be > 0");
        Message.requirePresent(manifestTopic, field + ".manifestTopic");
        Message.require(manifestTopic.equals(Topics.manifest(classId, model.sha256())), ReasonCode.INVALID_FIELD,
                "field '" + field + ".manifestTopic' does not match the class and sha256");
    }
}
