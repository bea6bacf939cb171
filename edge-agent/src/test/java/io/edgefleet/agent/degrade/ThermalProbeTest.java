package io.edgefleet.agent.degrade;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Thermal throttling read from fake sysfs trees. */
class ThermalProbeTest {
    @TempDir
    Path sys;

    void write(String path, String value) throws Exception {
        Path p = sys.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, value + "\n");
    }

    void zone(int n, long temp, String... trips) throws Exception {
        write("class/thermal/thermal_zone" + n + "/temp", Long.toString(temp));
        for (int i = 0; i < trips.length; i += 2) {
            write("class/thermal/thermal_zone" + n + "/trip_point_" + i / 2 + "_type", trips[i]);
            write("class/thermal/thermal_zone" + n + "/trip_point_" + i / 2 + "_temp", trips[i + 1]);
        }
    }

    @Test
    void noThermalFilesIsNotThrottled() {
        assertFalse(new ThermalProbe(sys).read().throttled());
        assertFalse(new ThermalProbe(sys.resolve("missing")).read().throttled());
    }

    @Test
    void temperatureAtOrOverThePassiveTripPointThrottles() throws Exception {
        zone(0, 45_000, "passive", "80000", "critical", "100000");
        assertFalse(new ThermalProbe(sys).read().throttled());
        zone(1, 81_500, "active", "60000", "passive", "80000");
        ThermalProbe.Reading r = new ThermalProbe(sys).read();
        assertTrue(r.throttled());
        assertTrue(r.detail().contains("thermal_zone1") && r.detail().contains("81.5"), r.detail());
    }

    @Test
    void onlyPassiveTripPointsCount() throws Exception {
        zone(0, 70_000, "active", "60000", "critical", "65000");
        assertFalse(new ThermalProbe(sys).read().throttled(), "fans (active) and critical are not CPU throttling");
    }

    @Test
    void aCappedCpufreqThrottles() throws Exception {
        write("devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "1800000");
        write("devices/system/cpu/cpu0/cpufreq/scaling_max_freq", "1800000");
        assertFalse(new ThermalProbe(sys).read().throttled());
        write("devices/system/cpu/cpu1/cpufreq/cpuinfo_max_freq", "1800000");
        write("devices/system/cpu/cpu1/cpufreq/scaling_max_freq", "600000");
        ThermalProbe.Reading r = new ThermalProbe(sys).read();
        assertTrue(r.throttled());
        assertTrue(r.detail().contains("cpu1 capped at 600 MHz"), r.detail());
    }

    @Test
    void malformedOrUnreadableValuesAreSkipped() throws Exception {
        zone(0, 0, "passive", "not-a-number");
        write("class/thermal/thermal_zone0/temp", "garbage");
        write("devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "");
        write("devices/system/cpu/cpu0/cpufreq/scaling_max_freq", "100");
        assertFalse(new ThermalProbe(sys).read().throttled());
    }
}
