package io.edgefleet.agent.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.ModelRef;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pure recovery rules, independent of files: which slot checks they ask for and what they decide. */
class RecoveryTest {
    static final ModelRef OLD = new ModelRef("m", 1, "a".repeat(64));
    static final ModelRef NEW = new ModelRef("m", 2, "b".repeat(64));

    @Test
    void uncommittedActivationWithIntactFallbackRollsBackToTheFallbackSlot() {
        StoreState s = new StoreState(1, Slot.B, NEW, OLD, Phase.ACTIVATED_UNCOMMITTED, "d", null, true);
        Recovery.Result r = Recovery.recover(s, (slot, m) -> true);
        assertEquals(Slot.A, r.state().activeSlot());
        assertEquals(OLD, r.state().active());
        assertEquals(null, r.state().standby());
        assertTrue(r.changed(s));
    }

    @Test
    void healthyCommittedStateIsLeftAlone() {
        StoreState s = new StoreState(1, Slot.B, NEW, OLD, Phase.COMMITTED, "d", null, false);
        Recovery.Result r = Recovery.recover(s, (slot, m) -> true);
        assertEquals(s, r.state());
        assertTrue(r.notes().isEmpty());
    }

    @Test
    void onlyTheSlotsThatHoldModelsAreChecked() {
        StoreState s = new StoreState(1, Slot.B, NEW, OLD, Phase.COMMITTED, "d", null, false);
        java.util.List<String> asked = new java.util.ArrayList<>();
        Recovery.recover(s, (slot, m) -> {
            asked.add(slot + ":" + m.version());
            return true;
        });
        assertEquals(Set.of("A:1", "B:2"), Set.copyOf(asked));
    }
}
