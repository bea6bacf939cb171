package io.edgefleet.agent.energy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Linux hwmon power sensors: {@code <sysfs>/class/hwmon/hwmon*}/{@code power<N>_input} in microwatts,
 * or, for current/voltage monitors such as the INA3221 on Jetson boards, {@code curr<N>_input} in
 * milliamperes times {@code in<N>_input} in millivolts (which is microwatts). The power of all channels
 * is summed and integrated over time with the trapezoid rule between samples, so the agent samples it
 * periodically (every second) as well as at each window's end.
 */
public final class HwmonSensor implements EnergySensor {
    private static final Pattern HWMON = Pattern.compile("hwmon\\d+");
    private static final Pattern POWER = Pattern.compile("power(\\d+)_input");
    private static final Pattern CURRENT = Pattern.compile("curr(\\d+)_input");

    /** One channel: a power file, or a current file and its voltage file. */
    private record Channel(Path power, Path current, Path voltage) {
        double microwatts() throws IOException {
            if (power != null) {
                return SysfsFiles.readLong(power);
            }
            return (double) SysfsFiles.readLong(current) * SysfsFiles.readLong(voltage);
        }
    }

    private final List<Channel> channels;
    private final LongSupplier nanoClock;
    private long lastNanos;
    private double lastWatts;
    private double totalJoules;

    private HwmonSensor(List<Channel> channels, LongSupplier nanoClock, double firstWatts) {
        this.channels = channels;
        this.nanoClock = nanoClock;
        this.lastNanos = nanoClock.getAsLong();
        this.lastWatts = firstWatts;
    }

    /** The readable power (or current and voltage) channels under {@code sysfsRoot}, or null when there are none. */
    public static HwmonSensor open(Path sysfsRoot, LongSupplier nanoClock) {
        List<Channel> channels = new ArrayList<>();
        for (Path dir : SysfsFiles.list(sysfsRoot.resolve("class/hwmon"), HWMON)) {
            List<Channel> power = new ArrayList<>();
            for (Path p : SysfsFiles.list(dir, POWER)) {
                power.add(new Channel(p, null, null));
            }
            List<Channel> found = power;
            if (power.isEmpty()) {
                found = new ArrayList<>();
                for (Path c : SysfsFiles.list(dir, CURRENT)) {
                    Matcher m = CURRENT.matcher(c.getFileName().toString());
                    m.matches();
                    Path v = dir.resolve("in" + m.group(1) + "_input");
                    if (Files.exists(v)) {
                        found.add(new Channel(null, c, v));
                    }
                }
            }
            for (Channel ch : found) {
                try {
                    ch.microwatts();
                    channels.add(ch);
                } catch (IOException e) {
                    // unreadable channel: skip it
                }
            }
        }
        if (channels.isEmpty()) {
            return null;
        }
        HwmonSensor s = new HwmonSensor(channels, nanoClock, 0);
        try {
            s.lastWatts = s.watts();
        } catch (IOException e) {
            return null;
        }
        return s;
    }

    private double watts() throws IOException {
        double uw = 0;
        for (Channel c : channels) {
            uw += c.microwatts();
        }
        return uw / 1e6;
    }

    @Override
    public String source() {
        return "hwmon";
    }

    @Override
    public synchronized void sample() throws IOException {
        double w = watts();
        long now = nanoClock.getAsLong();
        double seconds = Math.max(0, now - lastNanos) / 1e9;
        totalJoules += 0.5 * (w + lastWatts) * seconds;
        lastWatts = w;
        lastNanos = now;
    }

    @Override
    public synchronized double totalJoules() {
        return totalJoules;
    }

    int channelCount() {
        return channels.size();
    }
}
