package io.edgefleet.server.compression;

/** Life cycle of a compression job: QUEUED → RUNNING → SUCCEEDED | REJECTED | FAILED, or CANCELLED on request. */
public enum JobStatus {
    QUEUED,
    RUNNING,
    /** The gate passed and the variant is registered as a new model version. */
    SUCCEEDED,
    /** The gate rejected the variant: the report says why; no model version was created. */
    REJECTED,
    FAILED,
    CANCELLED;

    public boolean terminal() {
        return this != QUEUED && this != RUNNING;
    }
}
