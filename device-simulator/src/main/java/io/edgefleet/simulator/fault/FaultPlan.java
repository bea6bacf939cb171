package io.edgefleet.simulator.fault;

import io.edgefleet.agent.inference.ClassMix;

/**
 * What goes wrong in a simulated fleet, and when (seconds after the fleet starts), on which share of
 * the devices. Every part is optional (null). A share selects devices spread evenly over the fleet:
 * with share 0.25, devices 0, 4, 8, ...
 *
 * @param drift    input drift: float inputs become {@code x · scale + shift} from {@code fromSeconds}, and with a
 *                 class mix a labelled {@code .npz} input folder is sampled by that skewed class distribution
 * @param slowdown inferences take {@code factor} times as long from {@code fromSeconds}
 * @param errors   inferences fail with probability {@code rate} for {@code seconds} from {@code fromSeconds}
 * @param powerCut devices lose power at {@code atSeconds} (no orderly OFFLINE: the broker publishes the will)
 *                 and, when {@code restartAfterSeconds > 0}, come back that much later
 * @param thermal  the devices' CPU is thermally throttled from {@code fromSeconds} for {@code seconds} (0: until
 *                 the fleet stops), through a fake sysfs tree in their data directory ({@link ThermalPressure})
 */
public record FaultPlan(Drift drift, Slowdown slowdown, Errors errors, PowerCut powerCut, Thermal thermal) {
    public static final FaultPlan NONE = new FaultPlan(null, null, null, null, null);

    /** A plan without thermal pressure. */
    public FaultPlan(Drift drift, Slowdown slowdown, Errors errors, PowerCut powerCut) {
        this(drift, slowdown, errors, powerCut, null);
    }

    /** @param classMix the class distribution to sample labelled inputs by while drifting; null: the data's own order */
    public record Drift(double share, double fromSeconds, double shift, double scale, ClassMix classMix) {
        public Drift {
            checkShare(share, "drift");
            check(fromSeconds >= 0, "drift: start must be >= 0 s");
            check(Double.isFinite(shift) && Double.isFinite(scale) && scale > 0, "drift: shift must be finite and scale > 0");
        }

        /** A shift of mean and scale only. */
        public Drift(double share, double fromSeconds, double shift, double scale) {
            this(share, fromSeconds, shift, scale, null);
        }

        /** Whether float inputs change at all (a pure class-mix drift leaves them as they are). */
        public boolean shiftsInputs() {
            return shift != 0 || scale != 1;
        }
    }

    public record Slowdown(double share, double fromSeconds, double factor) {
        public Slowdown {
            checkShare(share, "slowdown");
            check(fromSeconds >= 0, "slowdown: start must be >= 0 s");
            check(factor >= 1 && factor <= 1000, "slowdown: factor must be in [1, 1000]");
        }
    }

    public record Errors(double share, double fromSeconds, double seconds, double rate) {
        public Errors {
            checkShare(share, "errors");
            check(fromSeconds >= 0 && seconds > 0, "errors: start must be >= 0 s and the burst > 0 s");
            check(rate > 0 && rate <= 1, "errors: rate must be in (0, 1]");
        }
    }

    public record PowerCut(double share, double atSeconds, double restartAfterSeconds) {
        public PowerCut {
            checkShare(share, "power cut");
            check(atSeconds >= 0 && restartAfterSeconds >= 0, "power cut: times must be >= 0 s");
        }
    }

    public record Thermal(double share, double fromSeconds, double seconds) {
        public Thermal {
            checkShare(share, "thermal");
            check(fromSeconds >= 0 && seconds >= 0, "thermal: times must be >= 0 s");
        }
    }

    /** Whether device {@code index} (0-based) is among the {@code share} of the fleet: spread evenly, the first included. */
    public static boolean selected(double share, int index) {
        if (share <= 0) {
            return false;
        }
        if (share >= 1) {
            return true;
        }
        // device i is in when the running count ceil(i·share) steps up at it; the small slack absorbs rounding
        return Math.ceil((index + 1) * share - 1e-9) > Math.ceil(index * share - 1e-9);
    }

    private static void checkShare(double share, String what) {
        check(share >= 0 && share <= 1, what + ": share must be in [0, 1]");
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
