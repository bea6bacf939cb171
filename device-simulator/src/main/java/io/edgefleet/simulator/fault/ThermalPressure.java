package io.edgefleet.simulator.fault;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Thermal pressure on a simulated device, through the fake sysfs root the agent reads ({@code sysfsRoot}): one
 * thermal zone with a passive trip point at 80 °C, kept at 45 °C, heated to 86 °C while the fault lasts. The
 * agent's own {@code ThermalProbe} reads it exactly as it reads a board's {@code /sys}, so a simulated fleet shows
 * the real degradation path (switch to the light fallback, MODE_CHANGED events, back after calm windows).
 * A device never gets this tree unless the plan selects it; the others keep the configured root.
 */
public final class ThermalPressure {
    public static final long TRIP_MILLI_C = 80_000;
    public static final long COOL_MILLI_C = 45_000;
    public static final long HOT_MILLI_C = 86_000;

    private final Path zone;

    private ThermalPressure(Path zone) {
        this.zone = zone;
    }

    /** Writes a cool thermal zone with its passive trip point under {@code sysfsRoot}. */
    public static ThermalPressure prepare(Path sysfsRoot) throws IOException {
        Path zone = sysfsRoot.resolve("class/thermal/thermal_zone0");
        Files.createDirectories(zone);
        Files.writeString(zone.resolve("type"), "sim-cpu\n", StandardCharsets.US_ASCII);
        Files.writeString(zone.resolve("trip_point_0_type"), "passive\n", StandardCharsets.US_ASCII);
        Files.writeString(zone.resolve("trip_point_0_temp"), TRIP_MILLI_C + "\n", StandardCharsets.US_ASCII);
        ThermalPressure t = new ThermalPressure(zone);
        t.cool();
        return t;
    }

    public void heat() throws IOException {
        write(HOT_MILLI_C);
    }

    public void cool() throws IOException {
        write(COOL_MILLI_C);
    }

    /** Replaced by a rename, so the agent never reads a half-written temperature. */
    private void write(long milliC) throws IOException {
        Path tmp = zone.resolve("temp.tmp");
        Files.writeString(tmp, milliC + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, zone.resolve("temp"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
