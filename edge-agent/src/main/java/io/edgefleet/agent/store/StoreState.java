package io.edgefleet.agent.store;

import io.edgefleet.protocol.ModelRef;

/**
 * The persisted truth about the model slots. The standby (fallback) model, when present, lives in
 * {@code activeSlot.other()}; a staged candidate lives in the inactive slot next to it.
 *
 * @param format       file format version of {@code state.json}
 * @param activeSlot   slot of the running model, null when the device has no model yet
 * @param active       the running model, null when none
 * @param standby      the fallback model in the other slot, null when none
 * @param phase        update phase
 * @param deploymentId deployment the current or last update belongs to
 * @param staged       candidate that is staged (phase STAGED only)
 * @param activeUnproven the active model has not passed a health watch on this device: it was activated and its watch
 *                     is open, or the watch breached (or a restart cut it short) with no fallback to go to, so it
 *                     was kept running uncommitted. A deploy of that same model then watches it again instead of
 *                     answering "already the active model". Absent in files written before session 13: false.
 */
public record StoreState(int format, Slot activeSlot, ModelRef active, ModelRef standby, Phase phase,
                         String deploymentId, ModelRef staged, boolean activeUnproven) {

    public static final int FORMAT = 1;

    public static StoreState empty() {
        return new StoreState(FORMAT, null, null, null, Phase.IDLE, null, null, false);
    }

    public StoreState {
        if (phase == null) {
            phase = Phase.IDLE;
        }
        if (active == null) {
            activeSlot = null;
            activeUnproven = false;
        } else if (phase == Phase.ACTIVATED_UNCOMMITTED) {
            activeUnproven = true; // by definition (and for files written before the field)
        }
        if (activeSlot == null && active != null) {
            throw new IllegalArgumentException("an active model needs a slot");
        }
    }

    /** The slot a new download goes to: the one not running. */
    public Slot inactiveSlot() {
        return activeSlot == null ? Slot.A : activeSlot.other();
    }

    /** A commit proves the active model; any other phase keeps what was known. */
    public StoreState withPhase(Phase p) {
        return new StoreState(format, activeSlot, active, standby, p, deploymentId, staged,
                p != Phase.COMMITTED && activeUnproven);
    }

    /** The active model goes under a health watch again (for this deployment), without a download. */
    public StoreState rewatched(String deployment) {
        if (active == null || !activeUnproven) {
            throw new IllegalStateException("only an unproven active model is watched again");
        }
        return new StoreState(format, activeSlot, active, standby, Phase.ACTIVATED_UNCOMMITTED, deployment, null, true);
    }

    public StoreState withStandby(ModelRef s) {
        return new StoreState(format, activeSlot, active, s, phase, deploymentId, staged, activeUnproven);
    }

    public StoreState withStaged(ModelRef s, String deployment) {
        return new StoreState(format, activeSlot, active, standby, s == null ? phase : Phase.STAGED, deployment, s,
                activeUnproven);
    }

    /**
     * Makes the standby the active model; the old active becomes the standby only when kept. The fallback counts as
     * proven: it ran before the update that replaced it.
     */
    public StoreState swapped(boolean keepOldActiveAsStandby, Phase p) {
        if (standby == null) {
            throw new IllegalStateException("no standby model to swap to");
        }
        return new StoreState(format, activeSlot.other(), standby, keepOldActiveAsStandby ? active : null, p,
                deploymentId, null, false);
    }
}
