package io.edgefleet.server.alert;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** What happens, once, when an alert starts firing. */
@Schema(description = "What happens, once, when an alert starts firing.")
public enum AlertAction {
    NONE,
    /** Roll back the active deployments of the alert's class / model / version (or the one device). */
    ROLLBACK,
    /** Record a re-compression request for the alert's model version; the planner consumes them. */
    RECOMPRESS
}
