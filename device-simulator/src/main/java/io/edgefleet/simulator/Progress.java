package io.edgefleet.simulator;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/** The one-line summaries the simulator prints. Pure formatting, so it is tested on its own. */
public final class Progress {
    private Progress() {
    }

    /** Median and worst of the devices' last-window p95 latencies, or null when none reported yet. */
    public record FleetLatency(double medianP95, double worstP95, int reporting) {
    }

    public static FleetLatency latency(List<ServerApi.Device> devices) {
        List<Double> p = devices.stream().map(ServerApi.Device::p95).filter(Objects::nonNull).sorted().toList();
        if (p.isEmpty()) {
            return null;
        }
        int n = p.size();
        double median = n % 2 == 1 ? p.get(n / 2) : (p.get(n / 2 - 1) + p.get(n / 2)) / 2;
        return new FleetLatency(median, p.get(n - 1), n);
    }

    public static String line(long elapsedSeconds, long agentsConnected, int agents, List<ServerApi.Device> devices,
                              ServerApi.Deployment deployment) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "[%4ds] agents connected %d/%d", elapsedSeconds,
                agentsConnected, agents));
        if (devices != null) {
            long online = devices.stream().filter(ServerApi.Device::online).count();
            sb.append(String.format(Locale.ROOT, " (server: %d online)", online));
        }
        if (deployment != null) {
            ServerApi.Summary s = deployment.summary();
            sb.append(String.format(Locale.ROOT, " | %s:%d %s: %d committed, %d in progress, %d pending, %d rolled back, %d failed",
                    deployment.model(), deployment.version(), deployment.status(), s.committed(), s.inProgress(), s.pending(),
                    s.rolledBack(), s.failed()));
            if (deployment.waveCount() > 0) {
                sb.append(String.format(Locale.ROOT, ", wave %d/%d", deployment.waveCurrent(), deployment.waveCount()));
            }
        }
        FleetLatency l = devices == null ? null : latency(devices);
        if (l != null) {
            sb.append(String.format(Locale.ROOT, " | p95 median %.2f ms, worst %.2f ms (%d devices)", l.medianP95(),
                    l.worstP95(), l.reporting()));
        }
        return sb.toString();
    }
}
