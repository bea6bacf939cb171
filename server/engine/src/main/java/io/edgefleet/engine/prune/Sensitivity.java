package io.edgefleet.engine.prune;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.recalib.LeastSquaresReconstruction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Per-group sensitivity to pruning: prune one group alone at each of a few ratios (by the given importance), optionally
 * refit the layers that touch it, and measure the damage on calibration data as the output error relative to the float
 * model (||y - y_float||² / ||y_float||², summed over samples). The budget allocator spends its cuts where damage is
 * cheapest.
 */
public final class Sensitivity {
    private Sensitivity() {
    }

    /** Damage of one group at the measured ratios; {@link #damageAt} interpolates (0 damage at ratio 0). */
    public record Curve(int group, String label, double[] ratios, double[] damage) {
        public Curve {
            ratios = ratios.clone();
            damage = damage.clone();
            if (ratios.length != damage.length || ratios.length == 0) {
                throw new IllegalArgumentException("a curve needs as many damages as ratios, at least one");
            }
        }

        /** Piecewise-linear through (0, 0) and the measured points; beyond the last one the last slope continues. */
        public double damageAt(double ratio) {
            double px = 0;
            double py = 0;
            for (int i = 0; i < ratios.length; i++) {
                if (ratio <= ratios[i]) {
                    double t = (ratio - px) / (ratios[i] - px);
                    return py + t * (damage[i] - py);
                }
                px = ratios[i];
                py = damage[i];
            }
            double slope = ratios.length == 1 ? damage[0] / ratios[0]
                    : (damage[ratios.length - 1] - damage[ratios.length - 2]) / (ratios[ratios.length - 1]
                            - ratios[ratios.length - 2]);
            return py + Math.max(slope, 0) * (ratio - px);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(label).append(':');
            for (int i = 0; i < ratios.length; i++) {
                sb.append(String.format(" %.0f%%->%.4f", 100 * ratios[i], damage[i]));
            }
            return sb.toString();
        }
    }

    /**
     * @param ratios fractions of a group's channels removed at each probe
     * @param maxSamples calibration samples used for the damage
     * @param recalibrate refit the group's producers and consumers by least squares before measuring
     */
    public record Options(double[] ratios, int maxSamples, boolean recalibrate, LeastSquaresReconstruction.Options ls) {
        public Options {
            ratios = ratios.clone();
            for (double r : ratios) {
                if (!(r > 0 && r < 1)) {
                    throw new IllegalArgumentException("sensitivity ratios must be in (0, 1), got " + r);
                }
            }
            Arrays.sort(ratios);
        }

        public static Options defaults() {
            return new Options(new double[] {0.25, 0.5, 0.75}, 128, true,
                    new LeastSquaresReconstruction.Options(128, 16, 1e-3, true, 4096, 7, true));
        }

        public Options withRecalibration(boolean on) {
            return new Options(ratios, maxSamples, on, ls);
        }
    }

    public static List<Curve> measure(OnnxModel reference, ChannelAnalysis analysis, Map<Integer, double[]> scores,
            Dataset calibration, Options options) {
        List<Curve> out = new ArrayList<>();
        for (ChannelGroup grp : analysis.prunableGroups()) {
            double[] damage = new double[options.ratios().length];
            double[] s = scores.get(grp.id());
            for (int i = 0; i < damage.length; i++) {
                int keep = keepCount(grp, options.ratios()[i], 1);
                if (keep >= grp.channels()) {
                    continue;
                }
                ChannelPruner.Result r = ChannelPruner.apply(analysis,
                        Map.of(grp.id(), ChannelImportance.top(s, keep, grp.blocks())));
                OnnxModel m = r.model();
                if (options.recalibrate()) {
                    Set<String> layers = new LinkedHashSet<>(grp.producers());
                    layers.addAll(grp.consumers());
                    m = LeastSquaresReconstruction.reconstruct(reference, m, r.channelMap(), calibration, options.ls(),
                            layers).model();
                }
                damage[i] = Accuracy.measure(m, reference, calibration, options.maxSamples()).relativeMse();
            }
            // Damage should not fall as more is removed; noise can make it, so keep it monotone.
            for (int i = 1; i < damage.length; i++) {
                damage[i] = Math.max(damage[i], damage[i - 1]);
            }
            out.add(new Curve(grp.id(), grp.label(), options.ratios(), damage));
        }
        return out;
    }

    /** Data-free curves: damage proportional to the ratio for every group, so allocation spreads cuts evenly by cost. */
    public static List<Curve> uniform(ChannelAnalysis analysis) {
        List<Curve> out = new ArrayList<>();
        for (ChannelGroup grp : analysis.prunableGroups()) {
            out.add(new Curve(grp.id(), grp.label(), new double[] {1.0 - 1e-9}, new double[] {1.0}));
        }
        return out;
    }

    /** Channels kept when removing {@code ratio}, rounded to the group's blocks and {@code multiple}, at least one step. */
    static int keepCount(ChannelGroup grp, double ratio, int multiple) {
        int step = Math.max(1, multiple) * grp.blocks();
        int keep = (int) Math.round(grp.channels() * (1 - ratio) / step) * step;
        return Math.max(step, Math.min(grp.channels(), keep));
    }
}
