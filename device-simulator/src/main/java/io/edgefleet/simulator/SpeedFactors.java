package io.edgefleet.simulator;

import java.util.ArrayList;
import java.util.List;

/** {@code 1.0,1.5,3.0}: agent i runs at factor i mod n, so a fleet mixes fast and slow boards. */
public final class SpeedFactors {
    private SpeedFactors() {
    }

    public static List<Double> parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("speed factors: give at least one, e.g. 1.0,1.5,3.0");
        }
        List<Double> out = new ArrayList<>();
        for (String part : spec.split(",")) {
            String p = part.trim();
            double f;
            try {
                f = Double.parseDouble(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("speed factors: '" + p + "' is not a number");
            }
            if (!(f >= 1.0 && f <= 1000)) {
                throw new IllegalArgumentException("speed factors: " + p + " is outside [1, 1000] (1 = this machine's speed)");
            }
            out.add(f);
        }
        return List.copyOf(out);
    }

    public static double forAgent(List<Double> factors, int index) {
        return factors.get(index % factors.size());
    }

    /** {@code sim} and 1 → {@code sim-0001}. */
    public static String deviceId(String prefix, int oneBased) {
        return String.format("%s-%04d", prefix, oneBased);
    }
}
