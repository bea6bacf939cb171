package io.edgefleet.server.loop;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** What a re-plan searches for, relative to the class's current variant. */
@Schema(description = "What a re-plan searches for, relative to the class's current variant: AGGRESSIVE (latency or energy breach), RECALIBRATE (drift or quality breach, with fresh data), GENTLER (drift or quality breach without fresh data).")
public enum LoopStrategy {
    /** Latency or energy breach: only candidates more aggressive than the current variant's recipe. */
    AGGRESSIVE,
    /** Drift or quality breach with fresh data: the current recipe and gentler ones, calibrated on that data. */
    RECALIBRATE,
    /** Drift or quality breach without fresh data: only candidates gentler than the current variant's recipe. */
    GENTLER
}
