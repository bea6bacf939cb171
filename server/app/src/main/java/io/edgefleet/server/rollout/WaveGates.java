package io.edgefleet.server.rollout;

import io.edgefleet.server.rollout.WaveMachine.GateResult;
import io.edgefleet.server.telemetry.WindowSummary;
import java.util.ArrayList;
import java.util.List;

/**
 * The telemetry gates of one wave, plain Java: the wave's devices on the new version over the soak
 * ({@code after}) against a limit, and against the baseline ({@code before}: the same devices before the
 * wave, or devices still on the old version). A gate breaks when the new version is over its limit
 * <em>and</em> worse than the baseline by more than the tolerance: a fleet that already missed its SLO on
 * the old version is not the new version's fault. A gate whose metric no telemetry carries is reported
 * as not evaluated and does not halt.
 */
public final class WaveGates {
    private WaveGates() {
    }

    /** What the device class promises; null where it promises nothing. */
    public record ClassSlo(Double p95LatencyMs, Double maxEnergyMjPerInference) {
    }

    public static List<GateResult> judge(RolloutPolicy.Gates gates, ClassSlo slo, WindowSummary after,
                                         WindowSummary before) {
        List<GateResult> out = new ArrayList<>();
        boolean enough = after.windows() >= gates.minWindows();
        double factor = 1 + gates.tolerancePercent() / 100.0;
        if (Boolean.TRUE.equals(gates.latency()) && slo.p95LatencyMs() != null) {
            out.add(gate("p95LatencyMs", enough, after.p95LatencyMs(), slo.p95LatencyMs(), before.p95LatencyMs(), factor,
                    after));
        }
        if (gates.maxErrorRate() != null) {
            out.add(gate("errorRate", enough, after.errorRate(), gates.maxErrorRate(), before.errorRate(), factor, after));
        }
        if (Boolean.TRUE.equals(gates.energy()) && slo.maxEnergyMjPerInference() != null) {
            out.add(gate("energyMjPerInference", enough, after.energyMjPerInference(), slo.maxEnergyMjPerInference(),
                    before.energyMjPerInference(), factor, after));
        }
        if (gates.maxDrift() != null) {
            out.add(gate("drift", enough, after.driftMax(), gates.maxDrift(), before.driftMax(), factor, after));
        }
        return out;
    }

    private static GateResult gate(String name, boolean enough, Double observed, double limit, Double baseline,
                                   double factor, WindowSummary after) {
        if (!enough || observed == null) {
            return new GateResult(name, false, false, observed, limit, baseline, after.windows(), after.devices());
        }
        boolean over = observed > limit;
        boolean worse = baseline == null || observed > baseline * factor;
        return new GateResult(name, true, over && worse, observed, limit, baseline, after.windows(), after.devices());
    }
}
