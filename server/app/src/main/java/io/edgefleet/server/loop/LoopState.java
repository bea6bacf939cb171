package io.edgefleet.server.loop;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Where one loop is. AWAITING_APPROVAL (approve mode) → READY → PLANNING → GATED (the chosen variant passed the
 * accuracy gate and every SLO) → CANARY (its deployment runs through the waves) → PROMOTED or ROLLED_BACK. The other
 * ends: REJECTED (operator), NO_CHOICE (nothing to try, or no candidate met every SLO), FAILED (the plan or the
 * deployment could not run), SKIPPED (a guardrail held: mode off, cooldown, backed off, a loop already running) and
 * BACKED_OFF (repeated rollbacks: this class starts no loop until an operator re-enables it).
 */
@Schema(description = "Where a loop is: AWAITING_APPROVAL, READY, PLANNING, GATED, CANARY, then PROMOTED or ROLLED_BACK; other ends REJECTED, NO_CHOICE, FAILED, SKIPPED, BACKED_OFF (docs/closed-loop.md).")
public enum LoopState {
    AWAITING_APPROVAL, READY, PLANNING, GATED, CANARY,
    PROMOTED, ROLLED_BACK, NO_CHOICE, FAILED, REJECTED, SKIPPED, BACKED_OFF;

    public boolean terminal() {
        return switch (this) {
            case AWAITING_APPROVAL, READY, PLANNING, GATED, CANARY -> false;
            default -> true;
        };
    }

    /** A loop that has started work on the class (counts for the cooldown and "one loop at a time"). */
    public boolean started() {
        return this != SKIPPED && this != BACKED_OFF && this != REJECTED && this != AWAITING_APPROVAL;
    }
}
