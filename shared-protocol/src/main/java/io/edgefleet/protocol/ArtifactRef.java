package io.edgefleet.protocol;

/**
 * Points a device at an artifact: where its manifest and chunks are published (the class topic
 * tree) and what the result must hash to. The signed manifest is authoritative; this is the pointer.
 */
public record ArtifactRef(String classId, ModelRef model, long size, String manifestTopic) {

    void validate() {
        Message.requirePresent(classId, "artifact.classId");
        Message.require(Topics.isId(classId), ReasonCode.INVALID_FIELD, "field 'artifact.classId' is not a valid id");
        Message.requirePresent(model, "artifact.model");
        model.validate("artifact.model");
        Message.require(size > 0, ReasonCode.INVALID_FIELD, "field 'artifact.size' must be > 0");
        Message.requirePresent(manifestTopic, "artifact.manifestTopic");
        Message.require(manifestTopic.equals(Topics.manifest(classId, model.sha256())), ReasonCode.INVALID_FIELD,
                "field 'artifact.manifestTopic' does not match the class and sha256");
    }
}
