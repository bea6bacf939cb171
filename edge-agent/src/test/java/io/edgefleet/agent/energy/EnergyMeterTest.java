package io.edgefleet.agent.energy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.edgefleet.protocol.PowerModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Energy sources on fake sysfs trees: RAPL with a wrapping counter, unreadable files, hwmon current × voltage. */
class EnergyMeterTest {
    private static final PowerModel LOCAL = new PowerModel(2.0, 6.0);

    @TempDir
    Path sys;

    private void write(String rel, String content) throws IOException {
        Path p = sys.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content + "\n");
    }

    @Test
    void raplSumsPackagesAndHandlesAWrappedCounter() throws IOException {
        write("class/powercap/intel-rapl:0/energy_uj", "999000000");
        write("class/powercap/intel-rapl:0/max_energy_range_uj", "1000000000");
        write("class/powercap/intel-rapl:1/energy_uj", "5000000");
        write("class/powercap/intel-rapl:1/max_energy_range_uj", "1000000000");
        // a sub-zone is part of package 0 and must not be added again
        write("class/powercap/intel-rapl:0:0/energy_uj", "123");
        write("class/powercap/intel-rapl:0:0/max_energy_range_uj", "1000000000");
        EnergyMeter meter = EnergyMeter.detect(sys, LOCAL, System::nanoTime);
        assertEquals("rapl", meter.source());

        // package 0 wraps: 999 J -> 1000 J (max) -> 2 J is 3 J; package 1 goes 5 J -> 7 J
        write("class/powercap/intel-rapl:0/energy_uj", "2000000");
        write("class/powercap/intel-rapl:1/energy_uj", "7000000");
        EnergyMeter.WindowEnergy w = meter.cut(100, 0);
        assertEquals("rapl", w.source());
        assertEquals(5.0, w.joules(), 1e-9);
        assertEquals(50.0, w.millijoulesPerInference(), 1e-9);

        EnergyMeter.WindowEnergy idle = meter.cut(0, 0);
        assertEquals(0.0, idle.joules(), 1e-12);
        assertNull(idle.millijoulesPerInference(), "no inferences: no energy per inference");
    }

    @Test
    void unreadableRaplFallsThroughToHwmonCurrentTimesVoltage() throws IOException {
        // energy_uj that is a directory cannot be read (a permission bit would not stop root)
        Files.createDirectories(sys.resolve("class/powercap/intel-rapl:0/energy_uj"));
        write("class/powercap/intel-rapl:0/max_energy_range_uj", "1000000000");
        // INA3221-style: curr1 500 mA at in1 5000 mV = 2.5 W; curr2 100 mA at in2 12000 mV = 1.2 W
        write("class/hwmon/hwmon0/name", "ina3221");
        write("class/hwmon/hwmon0/curr1_input", "500");
        write("class/hwmon/hwmon0/in1_input", "5000");
        write("class/hwmon/hwmon0/curr2_input", "100");
        write("class/hwmon/hwmon0/in2_input", "12000");
        // a current without its voltage is not a channel
        write("class/hwmon/hwmon0/curr3_input", "900");
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        HwmonSensor sensor = HwmonSensor.open(sys, clock::get);
        assertNotNull(sensor);
        assertEquals(2, sensor.channelCount());
        assertNull(RaplSensor.open(sys));

        EnergyMeter meter = new EnergyMeter(sensor, LOCAL);
        assertEquals("hwmon", meter.source());
        clock.addAndGet(2_000_000_000L); // 2 s at a steady 3.7 W
        meter.tick();
        write("class/hwmon/hwmon0/curr1_input", "1000"); // now 5 W + 1.2 W
        clock.addAndGet(1_000_000_000L);
        EnergyMeter.WindowEnergy w = meter.cut(10, 0);
        // 2 s × 3.7 W + 1 s × (3.7 + 6.2) / 2 W (trapezoid)
        assertEquals(7.4 + 4.95, w.joules(), 1e-9);
        assertEquals("hwmon", w.source());
    }

    @Test
    void hwmonPowerFilesAreMicrowatts() throws IOException {
        write("class/hwmon/hwmon3/power1_input", "4500000");
        AtomicLong clock = new AtomicLong();
        EnergyMeter meter = EnergyMeter.detect(sys, LOCAL, clock::get);
        assertEquals("hwmon", meter.source());
        clock.addAndGet(10_000_000_000L);
        assertEquals(45.0, meter.cut(1, 0).joules(), 1e-9);
    }

    @Test
    void withoutSensorsCpuTimeTimesTheClassPowerModel() {
        EnergyMeter meter = EnergyMeter.detect(sys, LOCAL, System::nanoTime);
        assertEquals("model-local", meter.source(), "no manifest power model yet: the agent's own setting, and it says so");
        EnergyMeter.WindowEnergy local = meter.cut(4, 500_000_000L); // 0.5 s CPU × (6 − 2) W
        assertEquals("model-local", local.source());
        assertEquals(2.0, local.joules(), 1e-9);
        assertEquals(500.0, local.millijoulesPerInference(), 1e-9);

        meter.setClassPower(new PowerModel(2.7, 6.4));
        EnergyMeter.WindowEnergy signed = meter.cut(10, 1_000_000_000L);
        assertEquals("model", signed.source());
        assertEquals(3.7, signed.joules(), 1e-9);
        assertEquals(370.0, signed.millijoulesPerInference(), 1e-9);
    }

    @Test
    void aSensorThatDisappearsHandsOverToTheModel() throws IOException {
        write("class/powercap/intel-rapl:0/energy_uj", "1000");
        write("class/powercap/intel-rapl:0/max_energy_range_uj", "1000000000");
        EnergyMeter meter = EnergyMeter.detect(sys, LOCAL, System::nanoTime);
        assertEquals("rapl", meter.source());
        Files.delete(sys.resolve("class/powercap/intel-rapl:0/energy_uj"));
        EnergyMeter.WindowEnergy w = meter.cut(1, 250_000_000L);
        assertEquals("model-local", w.source());
        assertEquals(1.0, w.joules(), 1e-9);
        assertEquals("model-local", meter.source());
    }
}
