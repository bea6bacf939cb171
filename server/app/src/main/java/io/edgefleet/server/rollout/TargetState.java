package io.edgefleet.server.rollout;

/** Where one device stands in one deployment. */
public enum TargetState {
    PENDING, SENT, DOWNLOADING, ACTIVATED, COMMITTED, ROLLED_BACK, FAILED;

    public boolean terminal() {
        return this == COMMITTED || this == ROLLED_BACK || this == FAILED;
    }

    /** Still needs the artifact retained on the broker. */
    public boolean needsArtifact() {
        return this == PENDING || this == SENT || this == DOWNLOADING;
    }

    /** The device runs (or ran) this deployment's model, so a rollback command applies to it. */
    public boolean rollbackApplies() {
        return this == ACTIVATED || this == COMMITTED;
    }
}
