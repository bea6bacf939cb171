package io.edgefleet.protocol;

/** Identifies one model version as installed on a device: the model name, its version number and content hash. */
public record ModelRef(String model, long version, String sha256) {

    public String label() {
        return model + ":" + version;
    }

    void validate(String field) {
        Message.requirePresent(model, field + ".model");
        Message.require(version > 0, ReasonCode.INVALID_FIELD, "field '" + field + ".version' must be > 0");
        Message.require(Topics.isSha(sha256), ReasonCode.INVALID_FIELD, "field '" + field + ".sha256' must be 64 hex digits");
    }
}
