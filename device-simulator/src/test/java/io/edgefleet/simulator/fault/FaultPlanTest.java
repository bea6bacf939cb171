package io.edgefleet.simulator.fault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.inference.ClassMix;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class FaultPlanTest {

    @Test
    void sharesSelectDevicesSpreadEvenly() {
        assertArrayEquals(new int[] {0, 4, 8}, IntStream.range(0, 12).filter(i -> FaultPlan.selected(0.25, i)).toArray());
        assertEquals(5, IntStream.range(0, 10).filter(i -> FaultPlan.selected(0.5, i)).count());
        assertEquals(3, IntStream.range(0, 30).filter(i -> FaultPlan.selected(0.1, i)).count());
        assertEquals(10, IntStream.range(0, 10).filter(i -> FaultPlan.selected(1.0, i)).count());
        assertEquals(0, IntStream.range(0, 10).filter(i -> FaultPlan.selected(0.0, i)).count());
    }

    @Test
    void badPlansAreRefusedWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FaultPlan.Drift(1.5, 0, 1, 1))
                .getMessage().contains("share"));
        assertThrows(IllegalArgumentException.class, () -> new FaultPlan.Drift(0.5, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new FaultPlan.Slowdown(0.5, 0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new FaultPlan.Errors(0.5, 0, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> new FaultPlan.PowerCut(0.5, -1, 0));
    }

    @Test
    void driftSlowdownAndErrorsFollowTheClock() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000);
        FaultPlan plan = new FaultPlan(new FaultPlan.Drift(1, 10, 2.0, 0.5), new FaultPlan.Slowdown(1, 5, 3),
                new FaultPlan.Errors(1, 20, 5, 1.0), null);
        ScheduledFaults f = new ScheduledFaults(plan, 0, 1_000_000, now::get);
        float[] x = {1, 2};
        assertFalse(f.transformsInputs());
        assertSame(x, f.input("x", x));
        assertEquals(0, f.extraNanos(1000));
        f.beforeRun();

        now.set(1_000_000 + 6_000);
        assertEquals(2000, f.extraNanos(1000), "3x slower: 2 extra for every 1 spent");
        now.set(1_000_000 + 10_000);
        assertTrue(f.transformsInputs());
        assertArrayEquals(new float[] {2.5f, 3.0f}, f.input("x", x));
        now.set(1_000_000 + 21_000);
        assertThrows(Exception.class, f::beforeRun);
        now.set(1_000_000 + 25_000);
        f.beforeRun(); // the burst is over
    }

    @Test
    void unselectedDevicesAreUntouched() throws Exception {
        FaultPlan plan = new FaultPlan(new FaultPlan.Drift(0.5, 0, 2.0, 1), null, null, null);
        ScheduledFaults odd = new ScheduledFaults(plan, 1, 0, () -> 100_000);
        assertFalse(odd.affected());
        assertFalse(odd.transformsInputs());
        assertTrue(new ScheduledFaults(plan, 0, 0, () -> 100_000).affected());
    }

    @Test
    void aClassMixDriftSkewsTheSelectedDevicesFromItsStartAndLeavesTheirInputValuesAlone() {
        AtomicLong now = new AtomicLong(1_000_000);
        ClassMix mix = ClassMix.parse("0=0.7");
        FaultPlan plan = new FaultPlan(new FaultPlan.Drift(0.5, 30, 0, 1, mix), null, null, null);
        ScheduledFaults drifting = new ScheduledFaults(plan, 0, 1_000_000, now::get);
        ScheduledFaults calm = new ScheduledFaults(plan, 1, 1_000_000, now::get);
        assertEquals(null, drifting.classMix(), "not before its start");
        now.addAndGet(30_000);
        assertSame(mix, drifting.classMix());
        assertEquals(null, calm.classMix(), "device 1 is not among the drifting half");
        assertFalse(drifting.transformsInputs(), "a pure class-mix drift changes no input value");
        assertTrue(new ScheduledFaults(new FaultPlan(new FaultPlan.Drift(1, 0, 1, 1, mix), null, null, null), 0, 1_000_000,
                now::get).transformsInputs(), "with a shift as well, values change too");
    }
}
