package io.edgefleet.server.planner;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Lifecycle of a plan job. */
@Schema(description = "Life of a plan: QUEUED, RUNNING, then CHOSEN (a variant meets every SLO), NO_CHOICE, "
        + "FAILED or CANCELLED.")
public enum PlanStatus {
    QUEUED,
    RUNNING,
    /** a candidate meets every SLO: it is registered as a new model version and as the class's variant */
    CHOSEN,
    /** the search finished and no candidate meets every SLO: the plan says which come closest; nothing registered */
    NO_CHOICE,
    FAILED,
    CANCELLED;

    public boolean terminal() {
        return this != QUEUED && this != RUNNING;
    }
}
