package io.edgefleet.agent.energy;

import io.edgefleet.protocol.PowerModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * The energy figures of each telemetry window, from the best source the board has, in this order:
 * RAPL (a package energy counter), hwmon (power, or current × voltage), else a model: the CPU time the
 * window's inferences spent × the device class's dynamic power ({@code activeWatts − idleWatts}) from
 * the signed manifest ({@code model}), or from the agent's own configuration when the manifest has no
 * power model ({@code model-local}).
 *
 * <p>A measured source covers the whole package or board, idle draw included, so its energy per
 * inference is the window's energy divided by its inferences: an upper bound on what the model costs.
 * A sensor that becomes unreadable is dropped for good and the model takes over.
 */
public final class EnergyMeter {
    private static final System.Logger LOG = System.getLogger(EnergyMeter.class.getName());

    /** One window's energy: its source, the whole window's joules and millijoules per inference (null without inferences). */
    public record WindowEnergy(String source, double joules, Double millijoulesPerInference) {
    }

    private final PowerModel localPower;
    private volatile EnergySensor sensor;
    private volatile PowerModel classPower;
    private double lastTotal;

    public EnergyMeter(EnergySensor sensor, PowerModel localPower) {
        this.sensor = sensor;
        this.localPower = localPower;
        if (sensor != null) {
            lastTotal = sensor.totalJoules();
        }
    }

    /** Looks for RAPL, then hwmon, under {@code sysfsRoot}; the model when neither can be read. */
    public static EnergyMeter detect(Path sysfsRoot, PowerModel localPower, LongSupplier nanoClock) {
        EnergySensor s = RaplSensor.open(sysfsRoot);
        if (s == null) {
            s = HwmonSensor.open(sysfsRoot, nanoClock);
        }
        return new EnergyMeter(s, localPower);
    }

    /** The class's power model of the running model's manifest; null falls back to the local setting. */
    public void setClassPower(PowerModel power) {
        this.classPower = power;
    }

    /** What the next window will name as its source. */
    public String source() {
        EnergySensor s = sensor;
        if (s != null) {
            return s.source();
        }
        return classPower != null ? "model" : "model-local";
    }

    /** Periodic sample (hwmon integrates power between samples). */
    public void tick() {
        EnergySensor s = sensor;
        if (s == null) {
            return;
        }
        try {
            s.sample();
        } catch (IOException e) {
            drop(s, e);
        }
    }

    private synchronized void drop(EnergySensor s, IOException e) {
        if (sensor == s) {
            sensor = null;
            LOG.log(System.Logger.Level.WARNING, "energy source " + s.source() + " became unreadable (" + e.getMessage()
                    + "); modelling energy from CPU time from now on");
        }
    }

    /**
     * Closes a window.
     *
     * @param inferences  inferences in the window
     * @param cpuNanos    CPU time the window's inferences used (for the model)
     */
    public synchronized WindowEnergy cut(long inferences, long cpuNanos) {
        EnergySensor s = sensor;
        if (s != null) {
            try {
                s.sample();
                double total = s.totalJoules();
                double joules = Math.max(0, total - lastTotal);
                lastTotal = total;
                return of(s.source(), joules, inferences);
            } catch (IOException e) {
                drop(s, e);
            }
        }
        PowerModel p = classPower != null ? classPower : localPower;
        double joules = cpuNanos / 1e9 * Math.max(0, p.dynamicWatts());
        return of(classPower != null ? "model" : "model-local", joules, inferences);
    }

    /**
     * Cuts the windows of several models closed at the same moment. A sensor measures the whole device,
     * so its energy since the last cut is shared by the windows' CPU time (by inference count when no CPU
     * time was measured; all to the first window when nothing ran); the power model charges each window
     * its own CPU time.
     */
    public synchronized java.util.List<WindowEnergy> cut(long[] inferences, long[] cpuNanos) {
        int n = inferences.length;
        java.util.List<WindowEnergy> out = new java.util.ArrayList<>(n);
        EnergySensor s = sensor;
        if (s != null) {
            try {
                s.sample();
                double total = s.totalJoules();
                double joules = Math.max(0, total - lastTotal);
                lastTotal = total;
                long cpuSum = 0;
                long infSum = 0;
                for (int i = 0; i < n; i++) {
                    cpuSum += Math.max(0, cpuNanos[i]);
                    infSum += Math.max(0, inferences[i]);
                }
                for (int i = 0; i < n; i++) {
                    double share = cpuSum > 0 ? Math.max(0, cpuNanos[i]) / (double) cpuSum
                            : infSum > 0 ? Math.max(0, inferences[i]) / (double) infSum : (i == 0 ? 1 : 0);
                    out.add(of(s.source(), joules * share, inferences[i]));
                }
                return out;
            } catch (IOException e) {
                drop(s, e);
            }
        }
        PowerModel p = classPower != null ? classPower : localPower;
        for (int i = 0; i < n; i++) {
            double joules = cpuNanos[i] / 1e9 * Math.max(0, p.dynamicWatts());
            out.add(of(classPower != null ? "model" : "model-local", joules, inferences[i]));
        }
        return out;
    }

    private static WindowEnergy of(String source, double joules, long inferences) {
        double j = round(joules, 1e6);
        Double perInference = inferences > 0 ? round(joules * 1000.0 / inferences, 1e6) : null;
        return new WindowEnergy(source, j, perInference);
    }

    private static double round(double v, double scale) {
        return Math.round(v * scale) / scale;
    }
}
