package io.edgefleet.server.alert;

/** PENDING while the condition has held for less than the rule's for-duration; FIRING after; RESOLVED once it stops. */
public enum AlertState {
    PENDING, FIRING, RESOLVED
}
