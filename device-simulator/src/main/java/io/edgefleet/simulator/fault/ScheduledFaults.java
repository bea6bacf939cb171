package io.edgefleet.simulator.fault;

import io.edgefleet.agent.inference.ClassMix;
import io.edgefleet.agent.inference.InferenceFaults;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/** The faults of one simulated device, switched on and off by the clock according to a {@link FaultPlan}. */
public final class ScheduledFaults implements InferenceFaults {
    private final FaultPlan.Drift drift;
    private final FaultPlan.Slowdown slowdown;
    private final FaultPlan.Errors errors;
    private final long startMillis;
    private final LongSupplier clock;
    private final SplittableRandom random;

    /**
     * @param index       the device's 0-based index in the fleet (selects it by the plan's shares)
     * @param startMillis when the fleet started; the plan's times count from here
     */
    public ScheduledFaults(FaultPlan plan, int index, long startMillis, LongSupplier clock) {
        this.drift = plan.drift() != null && FaultPlan.selected(plan.drift().share(), index) ? plan.drift() : null;
        this.slowdown = plan.slowdown() != null && FaultPlan.selected(plan.slowdown().share(), index) ? plan.slowdown() : null;
        this.errors = plan.errors() != null && FaultPlan.selected(plan.errors().share(), index) ? plan.errors() : null;
        this.startMillis = startMillis;
        this.clock = clock;
        this.random = new SplittableRandom(index * 7919L + 17);
    }

    /** Whether this device is affected by any inference fault of the plan at all. */
    public boolean affected() {
        return drift != null || slowdown != null || errors != null;
    }

    private double elapsedSeconds() {
        return (clock.getAsLong() - startMillis) / 1000.0;
    }

    @Override
    public void beforeRun() throws Exception {
        if (errors == null) {
            return;
        }
        double t = elapsedSeconds();
        if (t >= errors.fromSeconds() && t < errors.fromSeconds() + errors.seconds()) {
            boolean fail;
            synchronized (random) {
                fail = random.nextDouble() < errors.rate();
            }
            if (fail) {
                throw new Exception("simulated error burst");
            }
        }
    }

    private boolean drifting() {
        return drift != null && elapsedSeconds() >= drift.fromSeconds();
    }

    @Override
    public boolean transformsInputs() {
        return drifting() && drift.shiftsInputs();
    }

    @Override
    public ClassMix classMix() {
        return drifting() ? drift.classMix() : null;
    }

    @Override
    public float[] input(String name, float[] values) {
        if (!transformsInputs()) {
            return values;
        }
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) (values[i] * drift.scale() + drift.shift());
        }
        return out;
    }

    @Override
    public long extraNanos(long elapsedNanos) {
        if (slowdown == null || elapsedSeconds() < slowdown.fromSeconds()) {
            return 0;
        }
        return (long) ((slowdown.factor() - 1) * elapsedNanos);
    }
}
