package io.edgefleet.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressTest {
    static ServerApi.Device dev(String id, boolean online, Double p95) {
        return new ServerApi.Device(id, online, null, p95, null);
    }

    @Test
    void fleetLatencyIsMedianAndWorstOfReportingDevices() {
        Progress.FleetLatency l = Progress.latency(List.of(dev("a", true, 3.0), dev("b", true, 1.0), dev("c", true, null),
                dev("d", false, 2.0), dev("e", true, 10.0)));
        assertEquals(new Progress.FleetLatency(2.5, 10.0, 4), l);
        assertNull(Progress.latency(List.of(dev("a", true, null))));
    }

    @Test
    void lineShowsAgentsDeploymentAndLatency() {
        ServerApi.Deployment d = new ServerApi.Deployment("dep-1", "demo-classifier", 1, "IN_PROGRESS",
                new ServerApi.Summary(1, 2, 17, 0, 0), 20);
        String line = Progress.line(42, 19, 20, List.of(dev("a", true, 0.5), dev("b", false, 1.5)), d);
        assertEquals("[  42s] agents connected 19/20 (server: 1 online) | demo-classifier:1 IN_PROGRESS: 17 committed,"
                + " 2 in progress, 1 pending, 0 rolled back, 0 failed | p95 median 1.00 ms, worst 1.50 ms (2 devices)", line);
        assertEquals("[   3s] agents connected 0/5", Progress.line(3, 0, 5, null, null));
        ServerApi.Deployment waves = new ServerApi.Deployment("dep-2", "demo-classifier", 2, "IN_PROGRESS",
                new ServerApi.Summary(5, 0, 1, 0, 0), 6, 2, 3);
        assertEquals("[  10s] agents connected 6/6 | demo-classifier:2 IN_PROGRESS: 1 committed, 0 in progress, 5 pending,"
                + " 0 rolled back, 0 failed, wave 2/3", Progress.line(10, 6, 6, null, waves));
    }
}
