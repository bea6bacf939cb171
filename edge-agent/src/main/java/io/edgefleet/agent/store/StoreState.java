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
 */
public record StoreState(int format, Slot activeSlot, ModelRef active, ModelRef standby, Phase phase,
                         String deploymentId, ModelRef staged) {

    public static final int FORMAT = 1;

    public static StoreState empty() {
        return new StoreState(FORMAT, null, null, null, Phase.IDLE, null, null);
    }

    public StoreState {
        if (phase == null) {
            phase = Phase.IDLE;
        }
        if (active == null) {
            activeSlot = null;
        }
        if (activeSlot == null && active != null) {
            throw new IllegalArgumentException("an active model needs a slot");
        }
    }

    /** The slot a new download goes to: the one not running. */
    public Slot inactiveSlot() {
        return activeSlot == null ? Slot.A : activeSlot.other();
    }

    public StoreState withPhase(Phase p) {
        return new StoreState(format, activeSlot, active, standby, p, deploymentId, staged);
    }

    public StoreState withStandby(ModelRef s) {
        return new StoreState(format, activeSlot, active, s, phase, deploymentId, staged);
    }

    public StoreState withStaged(ModelRef s, String deployment) {
        return new StoreState(format, activeSlot, active, standby, s == null ? phase : Phase.STAGED, deployment, s);
    }

    /** Makes the standby the active model; the old active becomes the standby only when kept. */
    public StoreState swapped(boolean keepOldActiveAsStandby, Phase p) {
        if (standby == null) {
            throw new IllegalStateException("no standby model to swap to");
        }
        return new StoreState(format, activeSlot.other(), standby, keepOldActiveAsStandby ? active : null, p,
                deploymentId, null);
    }
}
