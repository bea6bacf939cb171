package io.edgefleet.server.loop;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.Locale;

/** The per-class switch of the closed loop. */
@Schema(description = "The per-class switch of the closed loop: AUTOMATIC (an alert starts a loop within the guardrails), APPROVE (loops wait for approve or reject), OFF (alerts start nothing).")
public enum LoopMode {
    /** An alert starts a loop at once (within the guardrails). */
    AUTOMATIC,
    /** An alert creates a loop that waits for an operator's approve or reject. */
    APPROVE,
    /** Alerts start nothing; they are still recorded as skipped loops. */
    OFF;

    /** Parses {@code automatic | approve | off} (any case); null for anything else. */
    public static LoopMode parse(String s) {
        if (s == null) {
            return null;
        }
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
