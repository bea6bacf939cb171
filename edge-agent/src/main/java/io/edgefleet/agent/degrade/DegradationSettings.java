package io.edgefleet.agent.degrade;

/**
 * The agent's graceful-degradation settings (README configuration table, docs/degradation.md).
 *
 * @param calmWindows      windows in a row without pressure before a degraded model goes back to full
 * @param cascadeThreshold in cascade, the light variant's top-1 confidence under which the full model answers
 * @param pressureMode     what pressure switches to: {@link Mode#LIGHT} or {@link Mode#CASCADE}
 * @param p95SloMs         the p95 latency (ms) over which a window is pressure; null: the deploy's health policy
 *                         (the class SLO)
 * @param thermal          whether thermal throttling under the sysfs root counts as pressure
 */
public record DegradationSettings(int calmWindows, double cascadeThreshold, Mode pressureMode, Double p95SloMs,
                                  boolean thermal) {
    public static final DegradationSettings DEFAULTS = new DegradationSettings(3, 0.8, Mode.LIGHT, null, true);

    public DegradationSettings {
        if (calmWindows < 1 || calmWindows > 1000) {
            throw new IllegalArgumentException("degradationCalmWindows: '" + calmWindows + "' must be in [1, 1000]");
        }
        if (!(cascadeThreshold > 0 && cascadeThreshold <= 1)) {
            throw new IllegalArgumentException("cascadeThreshold: '" + cascadeThreshold + "' must be in (0, 1]");
        }
        if (pressureMode == null || pressureMode == Mode.FULL) {
            throw new IllegalArgumentException("degradationPressureMode: must be light or cascade");
        }
        if (p95SloMs != null && !(p95SloMs > 0 && Double.isFinite(p95SloMs))) {
            throw new IllegalArgumentException("degradationP95Ms: '" + p95SloMs + "' must be > 0");
        }
    }
}
