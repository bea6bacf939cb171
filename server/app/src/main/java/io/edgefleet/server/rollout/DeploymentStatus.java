package io.edgefleet.server.rollout;

/**
 * IN_PROGRESS while any target is not terminal; COMPLETED when all committed; PARTIAL when some
 * committed and some failed or rolled back; ROLLED_BACK when the operator rolled it back or every
 * target that finished without committing rolled back; FAILED when every target failed.
 */
public enum DeploymentStatus {
    IN_PROGRESS, COMPLETED, PARTIAL, ROLLED_BACK, FAILED
}
