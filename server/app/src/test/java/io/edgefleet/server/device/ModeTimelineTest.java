package io.edgefleet.server.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.edgefleet.server.device.ModeTimeline.ModelModes;
import io.edgefleet.server.device.ModeTimeline.Switch;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModeTimelineTest {
    private static Switch sw(String model, long ts, String detail) {
        return ModeTimeline.parse(model, ts, detail);
    }

    @Test
    void readsTheAgentsDetail() {
        assertEquals(new Switch("kws", 5, "full", "light"), sw("kws", 5, "full -> light: p95 12.40 ms over the SLO 10.00 ms"));
        assertEquals(new Switch("kws", 5, "light", "full"), sw("kws", 5, "light -> full: 3 calm windows"));
        assertEquals(new Switch("kws", 5, "light", "cascade"), sw("kws", 5, "light -> cascade"));
        assertNull(sw("kws", 5, "switched to light"));
        assertNull(sw("kws", 5, null));
        assertNull(sw(null, 5, "full -> light: x"));
    }

    @Test
    void splitsTheWindowAtEachSwitchInAnyOrder() {
        // window [1000, 11000): full until 3000, light until 7000, cascade until 9000, full to the end
        List<Switch> s = List.of(sw("a", 9000, "cascade -> full: operator"), sw("a", 3000, "full -> light: hot"),
                sw("a", 7000, "light -> cascade: operator"));
        List<ModelModes> out = ModeTimeline.over(s, 1000, 11000);
        assertEquals(1, out.size());
        assertEquals(Map.of("full", 4000L, "light", 4000L, "cascade", 2000L), out.get(0).millis());
        assertEquals(List.of("full", "light", "cascade"), List.copyOf(out.get(0).millis().keySet()));
        assertEquals(3, out.get(0).switches());
        assertEquals("full", out.get(0).modeAtEnd());
    }

    @Test
    void theModeAtTheStartIsTheLastSwitchBeforeItAndLaterSwitchesAreIgnored() {
        List<Switch> s = List.of(sw("a", 100, "full -> light: hot"), sw("a", 500, "light -> cascade: op"),
                sw("a", 2000, "cascade -> full: op"), sw("a", 5000, "full -> light: after the window"));
        List<ModelModes> out = ModeTimeline.over(s, 1000, 3000);
        assertEquals(Map.of("cascade", 1000L, "full", 1000L), out.get(0).millis());
        assertEquals(1, out.get(0).switches());
        assertEquals("full", out.get(0).modeAtEnd());
        // a switch exactly at the start counts as before it
        assertEquals(Map.of("light", 2000L), ModeTimeline.over(List.of(sw("a", 1000, "full -> light: x")), 1000, 3000)
                .get(0).millis());
    }

    @Test
    void modelsAreKeptApartAndOneThatNeverSwitchedIsNotListed() {
        List<Switch> s = List.of(sw("kws", 2000, "full -> light: hot"), sw("digits", 1500, "full -> cascade: op"),
                sw("late", 9000, "full -> light: after the window"));
        List<ModelModes> out = ModeTimeline.over(s, 1000, 3000);
        assertEquals(List.of("digits", "kws"), out.stream().map(ModelModes::model).toList());
        assertEquals(Map.of("full", 500L, "cascade", 1500L), out.get(0).millis());
        assertEquals(Map.of("full", 1000L, "light", 1000L), out.get(1).millis());
        assertEquals(List.of(), ModeTimeline.over(List.of(), 1000, 3000));
    }

    @Test
    void aWindowThatEndsBeforeItStartsIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> ModeTimeline.over(List.of(), 3000, 1000));
    }
}
