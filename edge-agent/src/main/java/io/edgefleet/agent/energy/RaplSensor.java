package io.edgefleet.agent.energy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Linux powercap RAPL: {@code <sysfs>/class/powercap/intel-rapl:N/energy_uj}, one cumulative
 * microjoule counter per CPU package. Sub-zones ({@code intel-rapl:N:M}, core and uncore) are parts of
 * their package and are not added again. A counter wraps at {@code max_energy_range_uj}; a reading
 * smaller than the previous one is taken as one wrap. Sampling at least once per wrap period (minutes
 * to hours at real power levels) keeps the sum exact.
 */
public final class RaplSensor implements EnergySensor {
    private static final Pattern PACKAGE = Pattern.compile("intel-rapl:\\d+");

    private record Zone(Path energy, long maxRange) {
    }

    private final List<Zone> zones;
    private final long[] last;
    private double totalMicrojoules;

    private RaplSensor(List<Zone> zones, long[] first) {
        this.zones = zones;
        this.last = first;
    }

    /** The packages under {@code sysfsRoot} whose counters can be read, or null when there are none. */
    public static RaplSensor open(Path sysfsRoot) {
        List<Zone> zones = new ArrayList<>();
        List<Long> first = new ArrayList<>();
        for (Path dir : SysfsFiles.list(sysfsRoot.resolve("class/powercap"), PACKAGE)) {
            try {
                long now = SysfsFiles.readLong(dir.resolve("energy_uj"));
                long max = SysfsFiles.readLong(dir.resolve("max_energy_range_uj"));
                if (max <= 0) {
                    continue;
                }
                zones.add(new Zone(dir.resolve("energy_uj"), max));
                first.add(now);
            } catch (IOException e) {
                // unreadable (since Linux 5.10 energy_uj is root-only by default): not a usable source
            }
        }
        if (zones.isEmpty()) {
            return null;
        }
        return new RaplSensor(zones, first.stream().mapToLong(Long::longValue).toArray());
    }

    @Override
    public String source() {
        return "rapl";
    }

    @Override
    public synchronized void sample() throws IOException {
        for (int i = 0; i < zones.size(); i++) {
            Zone z = zones.get(i);
            long now = SysfsFiles.readLong(z.energy());
            long delta = now >= last[i] ? now - last[i] : now + z.maxRange() - last[i];
            totalMicrojoules += delta;
            last[i] = now;
        }
    }

    @Override
    public synchronized double totalJoules() {
        return totalMicrojoules / 1e6;
    }

    int zoneCount() {
        return zones.size();
    }
}
