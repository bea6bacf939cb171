package io.edgefleet.server.rollout;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * IN_PROGRESS while a wave runs; PAUSED when the operator paused it (devices already sent go on, no new wave
 * starts). Once every wave ran: COMPLETED when all committed; PARTIAL when some committed and some failed,
 * rolled back or timed out; ROLLED_BACK when none committed and some rolled back; TIMED_OUT when none
 * committed and some timed out; FAILED when every target failed. ROLLED_BACK is also the end of an operator
 * rollback. ABORTED: the deployment halted itself (abort rule, success condition, telemetry gate) or the
 * operator aborted it; the devices it touched were sent back to their previous model.
 */
@Schema(description = "Where a deployment as a whole stands (docs/rollouts.md).")
public enum DeploymentStatus {
    IN_PROGRESS, COMPLETED, PARTIAL, ROLLED_BACK, FAILED, PAUSED, ABORTED, TIMED_OUT;

    public boolean terminal() {
        return this != IN_PROGRESS && this != PAUSED;
    }
}
