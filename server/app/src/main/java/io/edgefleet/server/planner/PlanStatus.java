package io.edgefleet.server.planner;

/** Lifecycle of a plan job. */
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
