package io.edgefleet.server.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.hibernate.Session;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class TelemetryAggregatesTest {
    /** Far in the future: no other test's windows fall in these ranges, and retention never deletes them. */
    static final long B = 4_000_000_000_000L;
    private static boolean ready;

    @Inject
    TelemetryAggregates aggregates;

    @Inject
    Session session;

    /** Two classes; windows in (B + 1000, B + 2000] except where a test says otherwise. */
    @BeforeEach
    void fleet() {
        if (ready) {
            return;
        }
        ready = true;
        Api.createClass("agg-a");
        Api.createClass("agg-b");
        Api.registerDevice("agg-1", "agg-a");
        Api.registerDevice("agg-2", "agg-a");
        Api.registerDevice("agg-3", "agg-b");
        store(window("agg-1", 1, B + 1100, "m", 1L, 100, 2, 10.0, 2.0, 0.1));
        store(window("agg-1", 2, B + 1200, "m", 1L, 300, 1, 30.0, 4.0, 0.3));
        store(window("agg-2", 1, B + 1500, "m", 1L, 100, 0, 20.0, null, null));
        store(window("agg-2", 2, B + 2000, "m", 2L, 50, 50, null, null, null)); // all failed: no latency
        store(window("agg-3", 1, B + 1800, "m", 1L, 1000, 10, 5.0, 1.0, 0.05));
        store(window("agg-3", 2, B + 2001, "m", 1L, 1000, 1000, 99.0, 9.0, 9.0)); // outside the range
        store(window("agg-3", 3, B + 1000, "m", 1L, 1000, 1000, 99.0, 9.0, 9.0)); // on the exclusive lower bound
    }

    @Test
    void summarizesDevicesModelAndVersion() {
        WindowSummary s = aggregates.summarize(List.of("agg-1", "agg-2"), "m", 1L, B + 1000, B + 2000);
        assertEquals(3, s.windows());
        assertEquals(2, s.devices());
        assertEquals(500, s.inferences());
        assertEquals(3, s.errors());
        assertEquals(3.0 / 500, s.errorRate(), 1e-12);
        assertEquals(30.0, s.p95LatencyMs(), "the largest window p95, an upper bound of the pooled p95");
        assertEquals((2.0 * 100 + 4.0 * 300) / 400, s.energyMjPerInference(), 1e-12,
                "weighted by the inferences of the windows that report energy");
        assertEquals(0.3, s.driftMax(), 1e-12);

        WindowSummary anyVersion = aggregates.summarize(List.of("agg-1", "agg-2"), "m", null, B + 1000, B + 2000);
        assertEquals(4, anyVersion.windows());
        assertEquals(53, anyVersion.errors());
        assertEquals(30.0, anyVersion.p95LatencyMs(), "a window without successes carries no latency");

        WindowSummary everyone = aggregates.summarize(null, null, null, B + 1000, B + 2000);
        assertEquals(5, everyone.windows());
        assertEquals(3, everyone.devices());
    }

    @Test
    void noDataIsNullNotZero() {
        assertEquals(WindowSummary.EMPTY, aggregates.summarize(List.of(), "m", 1L, B, Long.MAX_VALUE));
        WindowSummary none = aggregates.summarize(List.of("agg-1"), "other", null, B, Long.MAX_VALUE);
        assertEquals(0, none.windows());
        assertNull(none.errorRate());
        assertNull(none.p95LatencyMs());
        WindowSummary noEnergy = aggregates.summarize(List.of("agg-2"), "m", 1L, B + 1000, B + 2000);
        assertNull(noEnergy.energyMjPerInference());
        assertNull(noEnergy.driftMax());
    }

    @Test
    void largeDeviceSetsAddUpAcrossChunks() {
        List<String> ids = new ArrayList<>(IntStream.range(0, 2 * TelemetryAggregates.CHUNK + 5)
                .mapToObj(i -> "none-" + i).toList());
        ids.add(TelemetryAggregates.CHUNK, "agg-1");
        ids.add("agg-3");
        ids.add("agg-1"); // duplicates count once
        WindowSummary s = aggregates.summarize(ids, "m", 1L, B + 1000, B + 2000);
        assertEquals(3, s.windows());
        assertEquals(2, s.devices());
        assertEquals(1400, s.inferences());
        assertEquals(30.0, s.p95LatencyMs());
    }

    @Test
    void groupsPerClassModelVersionAndPerDevice() {
        List<TelemetryAggregates.Group> groups = new ArrayList<>(aggregates.byClassModelVersion(B + 1000, B + 2000));
        groups.sort(Comparator.comparing(TelemetryAggregates.Group::classId)
                .thenComparing(TelemetryAggregates.Group::modelVersion));
        assertEquals(3, groups.size(), groups.toString());
        assertEquals(Set.of("agg-a/1", "agg-a/2", "agg-b/1"), Set.copyOf(groups.stream()
                .map(g -> g.classId() + "/" + g.modelVersion()).toList()));
        WindowSummary a1 = groups.get(0).summary();
        assertEquals(3, a1.windows());
        assertEquals(2, a1.devices());
        assertEquals(30.0, a1.p95LatencyMs());
        assertEquals(1.0, groups.get(1).summary().errorRate());
        assertEquals(1, groups.get(2).summary().windows());

        List<TelemetryAggregates.Group> devices = aggregates.byDevice(B + 1000, B + 2000);
        assertEquals(4, devices.size(), devices.toString());
        TelemetryAggregates.Group d1 = devices.stream().filter(g -> g.deviceId().equals("agg-1")).findFirst().orElseThrow();
        assertEquals("agg-a", d1.classId());
        assertEquals(2, d1.summary().windows());
        assertEquals(400, d1.summary().inferences());
    }

    @Test
    void groupsPerClassAndPerModel() {
        List<TelemetryAggregates.Group> classes = aggregates.grouped(TelemetryAggregates.Grouping.CLASS, B + 1000, B + 2000);
        assertEquals(2, classes.size(), classes.toString());
        TelemetryAggregates.Group a = classes.stream().filter(g -> g.classId().equals("agg-a")).findFirst().orElseThrow();
        assertNull(a.modelName());
        assertEquals(4, a.summary().windows(), "both versions of the class together");
        assertEquals(2, a.summary().devices());
        assertEquals(550, a.summary().inferences());
        List<TelemetryAggregates.Group> models = aggregates.grouped(TelemetryAggregates.Grouping.MODEL, B + 1000, B + 2000);
        assertEquals(2, models.size());
        assertEquals("m", models.get(0).modelName());
        assertNull(models.get(0).modelVersion());
    }

    private void store(TelemetryWindow w) {
        QuarkusTransaction.requiringNew().run(() -> session.persist(TelemetryView.toEntity(w, w.windowEnd())));
    }

    static TelemetryWindow window(String device, long seq, long end, String model, Long version, long inferences,
            long errors, Double p95, Double energyMj, Double drift) {
        LatencyStats latency = p95 == null ? null : new LatencyStats(p95 / 2, p95, p95, p95, p95 / 2);
        return new TelemetryWindow(1, device + "-" + seq + "-" + end, end, device, seq, end - 10, end,
                new ModelRef(model, version, "0".repeat(64)), inferences, errors, latency, energyMj, drift, 0, false);
    }
}
