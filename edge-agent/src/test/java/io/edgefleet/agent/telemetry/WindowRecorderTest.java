package io.edgefleet.agent.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WindowRecorderTest {
    @Test
    void percentilesAndCountsOfOneWindowThenAFreshOne() {
        WindowRecorder r = new WindowRecorder(1000);
        for (int i = 1; i <= 100; i++) {
            r.onSuccess(i * 1_000_000L); // 1..100 ms
        }
        r.onError(new RuntimeException("x"));
        WindowRecorder.Window w = r.cut(11_000);
        assertEquals(1000, w.start());
        assertEquals(11_000, w.end());
        assertEquals(101, w.inferences());
        assertEquals(1, w.errors());
        // HdrHistogram with 3 significant digits: within 0.1 %.
        assertEquals(50.0, w.latency().p50(), 0.1);
        assertEquals(95.0, w.latency().p95(), 0.1);
        assertEquals(99.0, w.latency().p99(), 0.1);
        assertEquals(100.0, w.latency().max(), 0.1);
        assertEquals(50.5, w.latency().mean(), 0.1);
        new io.edgefleet.protocol.TelemetryWindow(1, "x", 1, "d", 0, 1, 2, null, 1, 0, w.latency(), null, null, 0, false)
                .validate();

        WindowRecorder.Window next = r.cut(21_000);
        assertEquals(11_000, next.start());
        assertEquals(0, next.inferences());
        assertNull(next.latency());
    }

    @Test
    void onlyErrorsMeansNoLatency() {
        WindowRecorder r = new WindowRecorder(1);
        r.onError(new RuntimeException());
        r.onError(new RuntimeException());
        WindowRecorder.Window w = r.cut(2);
        assertEquals(2, w.inferences());
        assertEquals(2, w.errors());
        assertNull(w.latency());
    }

    @Test
    void extremeLatenciesAreClampedNotLost() {
        WindowRecorder r = new WindowRecorder(1);
        r.onSuccess(0);
        r.onSuccess(Long.MAX_VALUE / 2);
        WindowRecorder.Window w = r.cut(2);
        assertEquals(2, w.inferences());
        assertTrue(w.latency().max() >= 3_600_000.0 * 0.999);
    }

    @Test
    void aRecorderHoldsCountsForTheRangeItSawNotTheWholeHour() {
        // Thousands of agents share one simulator heap: counts sized up front for the one-hour clamp.
        long fullRange = new org.HdrHistogram.AtomicHistogram(WindowRecorder.MAX_MICROS, 3).getEstimatedFootprintInBytes();
        WindowRecorder idle = new WindowRecorder(0);
        idle.cut(10_000);
        assertTrue(idle.histogramFootprintBytes() * 4 < fullRange, idle.histogramFootprintBytes() + " vs " + fullRange);
        WindowRecorder r = new WindowRecorder(0);
        for (int i = 1; i <= 1000; i++) {
            r.onSuccess(i * 10_000L); // 10 us .. 10 ms
        }
        WindowRecorder.Window w = r.cut(10_000);
        assertEquals(1000, w.inferences());
        assertTrue(r.histogramFootprintBytes() * 2 < fullRange, r.histogramFootprintBytes() + " vs " + fullRange);
    }
}
