package io.edgefleet.server.compression;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Life cycle of a compression job: QUEUED → RUNNING → SUCCEEDED | REJECTED | FAILED, or CANCELLED on request. */
@Schema(description = "Life of a compression job: QUEUED, RUNNING, then SUCCEEDED, REJECTED (gate said no), "
        + "FAILED or CANCELLED.")
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
