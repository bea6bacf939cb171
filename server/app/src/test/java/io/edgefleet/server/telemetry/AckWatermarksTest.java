package io.edgefleet.server.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AckWatermarksTest {

    @Test
    void advancesOnlyThroughContiguousSeqs() {
        AckWatermarks w = new AckWatermarks();
        w.committed("d", 0, 0L);
        assertEquals(0, w.acked("d"));
        w.committed("d", 2, 0L);
        assertEquals(0, w.acked("d"), "seq 1 is missing: the watermark waits");
        assertEquals(List.of(new AckWatermarks.Gap("d", 0, 2)), w.gaps(10));
        w.committed("d", 3, 0L);
        w.committed("d", 1, 0L);
        assertEquals(3, w.acked("d"), "the gap filled: everything up to 3 is committed");
        assertTrue(w.gaps(10).isEmpty());
    }

    @Test
    void ackBaseSkipsWhatTheAgentDropped() {
        AckWatermarks w = new AckWatermarks();
        w.committed("d", 5, 0L);
        assertEquals(-1, w.acked("d"));
        // The agent dropped seqs 0..4 (buffer overflow, counted): its base moves to 5.
        w.committed("d", 6, 5L);
        assertEquals(6, w.acked("d"));
    }

    @Test
    void aWatermarkNeverGoesBack() {
        AckWatermarks w = new AckWatermarks();
        w.committed("d", 10, 10L);
        w.committed("d", 4, 4L); // a late replay of an old window
        assertEquals(10, w.acked("d"));
    }

    @Test
    void dirtyDevicesAreAcknowledgedOncePerChangeIncludingDuplicates() {
        AckWatermarks w = new AckWatermarks();
        w.committed("a", 0, 0L);
        w.committed("b", 0, 0L);
        assertEquals(Map.of("a", 0L, "b", 0L), w.takeDirty());
        assertTrue(w.takeDirty().isEmpty());
        // A duplicate (the agent replayed because it missed the ack) makes the ack go out again.
        w.committed("a", 0, 0L);
        assertEquals(Map.of("a", 0L), w.takeDirty());
    }

    @Test
    void anAckThatWasNotSentIsDueAgain() {
        AckWatermarks w = new AckWatermarks();
        w.committed("a", 0, 0L);
        w.committed("a", 1, 0L);
        assertEquals(Map.of("a", 1L), w.takeDirty());
        assertTrue(w.takeDirty().isEmpty());
        w.notSent("a");
        assertEquals(Map.of("a", 1L), w.takeDirty(), "due again although nothing new was committed");
        assertTrue(w.takeDirty().isEmpty());
        w.notSent("unknown");
        assertTrue(w.takeDirty().isEmpty(), "nothing to send for a device never committed");
    }

    @Test
    void seqsFoundInTheDatabaseFillAGapLeftByAnotherReplica() {
        AckWatermarks w = new AckWatermarks();
        w.committed("d", 0, 0L);
        w.committed("d", 3, 0L);
        w.takeDirty();
        w.found("d", List.of(1L, 2L, 3L));
        assertEquals(3, w.acked("d"));
        assertEquals(Map.of("d", 3L), w.takeDirty());
    }

    @Test
    void agentsWithoutAckBaseGetTheirHighestSeq() {
        AckWatermarks w = new AckWatermarks();
        w.committed("old", 7, null);
        w.committed("old", 5, null);
        assertEquals(7, w.acked("old"));
        assertTrue(w.gaps(10).isEmpty());
    }
}
