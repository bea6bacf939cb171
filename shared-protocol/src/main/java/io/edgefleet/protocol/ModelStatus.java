package io.edgefleet.protocol;

/**
 * One deployed model of a device, as its status reports it: the model name, the version running in its
 * active slot, the fallback in its other slot and where its update state machine stands. A device runs
 * several models side by side, each with its own A/B slots, health watch, commit and rollback.
 *
 * @param name    the model name (what the inference API serves it under)
 * @param active  the version in service, null when none loads
 * @param standby the fallback version, null when none
 * @param state   the model's update state
 */
public record ModelStatus(String name, ModelRef active, ModelRef standby, UpdateState state) {

    /** Where one model's update stands; mirrors the agent's persisted phase plus a download in flight. */
    public enum UpdateState { IDLE, DOWNLOADING, STAGED, ACTIVATED_UNCOMMITTED, COMMITTED }

    void validate(String field) {
        Message.requirePresent(name, field + ".name");
        Message.require(Topics.isId(name), ReasonCode.INVALID_FIELD, "field '" + field + ".name' is not a valid model name");
        Message.requirePresent(state, field + ".state");
        if (active != null) {
            // Usually named like the model; after a rollback to a fallback of another name (an upgraded
            // single-model device) the slot runs that one, so the names may differ.
            active.validate(field + ".active");
        }
        if (standby != null) {
            standby.validate(field + ".standby");
        }
    }
}
