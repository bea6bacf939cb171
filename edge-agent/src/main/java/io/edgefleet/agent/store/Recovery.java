package io.edgefleet.agent.store;

import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ReasonCode;
import java.util.ArrayList;
import java.util.List;

/**
 * What the store does with the state it finds at start-up, whatever moment the previous run was
 * killed at. Pure logic over the persisted state and a check of the slot files, so every crash point
 * can be tested as a table row.
 *
 * <p>Rules: an uncommitted activation is rolled back to the fallback (if the fallback is intact;
 * without one the candidate stays, since a model that passed its smoke test beats no model); a staged
 * candidate is discarded; a missing or corrupt active model is replaced by an intact fallback; a
 * corrupt fallback is forgotten.
 */
public final class Recovery {

    /** Whether the model file in a slot exists and hashes to the given model's sha256. */
    @FunctionalInterface
    public interface SlotCheck {
        boolean intact(Slot slot, ModelRef model);
    }

    public record Result(StoreState state, List<RecoveryNote> notes) {
        public boolean changed(StoreState before) {
            return !state.equals(before);
        }
    }

    private Recovery() {
    }

    public static Result recover(StoreState s, SlotCheck files) {
        List<RecoveryNote> notes = new ArrayList<>();
        boolean standbyOk = s.standby() != null && s.activeSlot() != null && files.intact(s.activeSlot().other(), s.standby());
        StoreState st = standbyOk ? s : s.withStandby(null);

        if (st.phase() == Phase.STAGED) {
            notes.add(new RecoveryNote(DeviceEvent.Type.DEPLOY_FAILED, st.deploymentId(), st.staged(), ReasonCode.UNKNOWN,
                    "agent restarted before activating the staged model; it was discarded"));
            st = st.withStaged(null, st.deploymentId()).withPhase(Phase.IDLE);
        } else if (st.staged() != null) {
            st = st.withStaged(null, st.deploymentId());
        }

        if (st.phase() == Phase.ACTIVATED_UNCOMMITTED) {
            ModelRef candidate = st.active();
            if (st.standby() != null) {
                st = st.swapped(false, Phase.IDLE);
                notes.add(new RecoveryNote(DeviceEvent.Type.ROLLED_BACK, st.deploymentId(), st.active(), ReasonCode.UNKNOWN,
                        "agent restarted during the health window of " + label(candidate) + "; rolled back to "
                                + label(st.active())));
            } else {
                st = st.withPhase(Phase.IDLE);
                notes.add(new RecoveryNote(DeviceEvent.Type.DEPLOY_FAILED, st.deploymentId(), candidate, ReasonCode.NO_FALLBACK,
                        "agent restarted during the health window of " + label(candidate)
                                + " and has no fallback; keeping it active, uncommitted"));
            }
        }

        if (st.active() != null && !files.intact(st.activeSlot(), st.active())) {
            ModelRef broken = st.active();
            if (st.standby() != null) {
                st = st.swapped(false, st.phase());
                notes.add(new RecoveryNote(DeviceEvent.Type.ROLLED_BACK, st.deploymentId(), st.active(), ReasonCode.HASH_MISMATCH,
                        "active model file of " + label(broken) + " is missing or corrupt; fell back to " + label(st.active())));
            } else {
                st = new StoreState(st.format(), null, null, null, Phase.IDLE, st.deploymentId(), null, false);
                notes.add(new RecoveryNote(DeviceEvent.Type.DEPLOY_FAILED, st.deploymentId(), broken, ReasonCode.HASH_MISMATCH,
                        "active model file of " + label(broken) + " is missing or corrupt and there is no fallback; running without a model"));
            }
        }
        return new Result(st, List.copyOf(notes));
    }

    private static String label(ModelRef m) {
        return m == null ? "none" : m.label();
    }
}
