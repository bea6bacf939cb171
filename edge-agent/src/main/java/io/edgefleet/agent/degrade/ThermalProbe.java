package io.edgefleet.agent.degrade;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads thermal throttling from Linux sysfs under a configurable root ({@code /sys}; tests give a fake tree):
 *
 * <ul>
 *   <li>{@code class/thermal/thermal_zone*}: a zone whose {@code temp} (millidegrees) has reached one of its
 *       {@code passive} trip points ({@code trip_point_N_type} = passive, {@code trip_point_N_temp}) is throttling:
 *       that is the temperature at which the kernel starts cooling by slowing the CPU;</li>
 *   <li>{@code devices/system/cpu/cpu*}{@code /cpufreq}: a CPU whose {@code scaling_max_freq} is below its
 *       {@code cpuinfo_max_freq} is capped (by the thermal governor or a power limit).</li>
 * </ul>
 *
 * Unreadable or malformed files are skipped: a board without these files is never throttled.
 */
public final class ThermalProbe {
    private final Path root;

    /** What one reading found. */
    public record Reading(boolean throttled, String detail) {
    }

    public ThermalProbe(Path sysfsRoot) {
        this.root = sysfsRoot;
    }

    public Reading read() {
        String zone = hotZone();
        if (zone != null) {
            return new Reading(true, zone);
        }
        String cpu = cappedCpu();
        if (cpu != null) {
            return new Reading(true, cpu);
        }
        return new Reading(false, null);
    }

    private String hotZone() {
        Path dir = root.resolve("class/thermal");
        try (DirectoryStream<Path> zones = Files.newDirectoryStream(dir, "thermal_zone*")) {
            for (Path z : zones) {
                Long temp = number(z.resolve("temp"));
                if (temp == null) {
                    continue;
                }
                for (int i = 0; i < 32; i++) {
                    Path type = z.resolve("trip_point_" + i + "_type");
                    if (!Files.exists(type)) {
                        break;
                    }
                    if (!"passive".equals(text(type))) {
                        continue;
                    }
                    Long trip = number(z.resolve("trip_point_" + i + "_temp"));
                    if (trip != null && trip > 0 && temp >= trip) {
                        return z.getFileName() + " at " + temp / 1000.0 + " °C, passive trip point " + trip / 1000.0 + " °C";
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    private String cappedCpu() {
        Path dir = root.resolve("devices/system/cpu");
        try (DirectoryStream<Path> cpus = Files.newDirectoryStream(dir, "cpu[0-9]*")) {
            for (Path c : cpus) {
                Long max = number(c.resolve("cpufreq/cpuinfo_max_freq"));
                Long scaling = number(c.resolve("cpufreq/scaling_max_freq"));
                if (max != null && scaling != null && scaling > 0 && scaling < max) {
                    return c.getFileName() + " capped at " + scaling / 1000 + " MHz of " + max / 1000 + " MHz";
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    private static String text(Path p) {
        try {
            return new String(Files.readAllBytes(p), StandardCharsets.US_ASCII).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Long number(Path p) {
        String s = text(p);
        if (s == null) {
            return null;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
