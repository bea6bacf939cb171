package io.edgefleet.server.alert;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** PENDING while the condition has held for less than the rule's for-duration; FIRING after; RESOLVED once it stops. */
@Schema(description = "Life of an alert: PENDING, FIRING, RESOLVED.")
public enum AlertState {
    PENDING, FIRING, RESOLVED
}
