package io.edgefleet.server.rollout;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Where one device stands in one deployment. TIMED_OUT: it did not finish within the policy's
 * targetTimeoutSeconds; CANCELLED: the deployment halted (or was superseded) before the device activated it.
 */
@Schema(description = "Where one device stands in one deployment.")
public enum TargetState {
    PENDING, SENT, DOWNLOADING, ACTIVATED, COMMITTED, ROLLED_BACK, FAILED, TIMED_OUT, CANCELLED;

    public boolean terminal() {
        return this == COMMITTED || this == ROLLED_BACK || this == FAILED || this == TIMED_OUT || this == CANCELLED;
    }

    /** Sent its command but not finished: the device is working on it. */
    public boolean inFlight() {
        return this == SENT || this == DOWNLOADING || this == ACTIVATED;
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
