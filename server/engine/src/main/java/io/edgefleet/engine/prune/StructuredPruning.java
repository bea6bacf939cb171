package io.edgefleet.engine.prune;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.recalib.BatchNormRecalibration;
import io.edgefleet.engine.recalib.BiasCorrection;
import io.edgefleet.engine.recalib.ChannelMap;
import io.edgefleet.engine.recalib.LeastSquaresReconstruction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Structured channel pruning end to end: channel analysis, importance, per-group budget (sensitivity-driven or one
 * uniform ratio), channel removal, then recalibration without gradients (BatchNorm statistics where BatchNorm is
 * still there, then bias correction or least-squares reconstruction of every layer).
 */
public final class StructuredPruning {
    private StructuredPruning() {
    }

    public enum Allocation {
        /** Per-group ratios from measured sensitivity curves (needs calibration data). */
        SENSITIVITY,
        /** One ratio for all groups: the data-free reference. */
        UNIFORM
    }

    public enum Recalibration {
        NONE,
        /** Re-estimate BatchNorm statistics, then correct biases so per-channel output means match the float model. */
        BIAS_CORRECTION,
        /** Re-estimate BatchNorm statistics, then refit each layer by least squares (includes the bias). */
        LEAST_SQUARES
    }

    /**
     * @param targetFraction cost kept, as a fraction of the base (0.4 = 2.5x fewer MACs)
     * @param channelMultiple kept counts are multiples of this
     * @param maxRatio at most this fraction of any group is removed
     * @param calibrationSamples samples used for importance, BatchNorm statistics and bias correction
     */
    public record Options(ChannelImportance.Criterion criterion, BudgetAllocator.Measure measure,
            double targetFraction, Allocation allocation, int channelMultiple, double maxRatio,
            Recalibration recalibration, Sensitivity.Options sensitivity, LeastSquaresReconstruction.Options ls,
            int calibrationSamples) {

        public Options {
            if (!(targetFraction > 0 && targetFraction <= 1)) {
                throw new IllegalArgumentException("targetFraction must be in (0, 1], got " + targetFraction);
            }
            if (!(maxRatio > 0 && maxRatio < 1)) {
                throw new IllegalArgumentException("maxRatio must be in (0, 1), got " + maxRatio);
            }
        }

        /**
         * Sensitivity-driven, contribution importance, least-squares recalibration, channel counts in multiples of 8
         * (ONNX Runtime's blocked convolutions use blocks of 8 channels on AVX2, 16 on AVX-512).
         */
        public static Options recommended(double targetMacsFraction) {
            return new Options(ChannelImportance.Criterion.CONTRIBUTION, BudgetAllocator.Measure.MACS,
                    targetMacsFraction, Allocation.SENSITIVITY, 8, 0.75, Recalibration.LEAST_SQUARES,
                    Sensitivity.Options.defaults(), LeastSquaresReconstruction.Options.defaults(), 256);
        }

        /** The aggressive reference: L1 magnitude, one ratio everywhere, no recalibration. */
        public static Options magnitudeBaseline(double targetMacsFraction) {
            return new Options(ChannelImportance.Criterion.L1, BudgetAllocator.Measure.MACS, targetMacsFraction,
                    Allocation.UNIFORM, 1, 0.9, Recalibration.NONE, Sensitivity.Options.defaults(),
                    LeastSquaresReconstruction.Options.defaults(), 256);
        }

        public Options withTarget(double fraction) {
            return new Options(criterion, measure, fraction, allocation, channelMultiple, maxRatio, recalibration,
                    sensitivity, ls, calibrationSamples);
        }

        public Options withRecalibration(Recalibration r) {
            return new Options(criterion, measure, targetFraction, allocation, channelMultiple, maxRatio, r,
                    sensitivity, ls, calibrationSamples);
        }

        public Options withCriterion(ChannelImportance.Criterion c) {
            return new Options(c, measure, targetFraction, allocation, channelMultiple, maxRatio, recalibration,
                    sensitivity, ls, calibrationSamples);
        }

        public Options withAllocation(Allocation a) {
            return new Options(criterion, measure, targetFraction, a, channelMultiple, maxRatio, recalibration,
                    sensitivity, ls, calibrationSamples);
        }

        public Options withChannelMultiple(int m) {
            return new Options(criterion, measure, targetFraction, allocation, m, maxRatio, recalibration,
                    sensitivity, ls, calibrationSamples);
        }

        public Options withMeasure(BudgetAllocator.Measure m) {
            return new Options(criterion, m, targetFraction, allocation, channelMultiple, maxRatio, recalibration,
                    sensitivity, ls, calibrationSamples);
        }
    }

    /**
     * @param groups every channel group, with the reasons for those kept whole
     * @param keptChannels group id to channels kept (only pruned groups)
     * @param predictedFraction predicted cost after pruning, as a fraction of the base
     * @param notes what recalibration did
     */
    public record Result(OnnxModel model, List<ChannelGroup> groups, Map<Integer, Integer> keptChannels,
            List<Sensitivity.Curve> curves, double predictedFraction, ChannelMap channelMap,
            List<LeastSquaresReconstruction.LayerFit> fits, List<String> notes) {
    }

    private static Map<Integer, Integer> allocate(ChannelAnalysis analysis, List<Sensitivity.Curve> curves, Options o,
            double target, LatencyProfile profile) {
        return o.allocation() == Allocation.SENSITIVITY
                ? BudgetAllocator.allocate(analysis, curves, o.measure(), target, o.channelMultiple(), o.maxRatio(),
                        profile)
                : BudgetAllocator.uniform(analysis, o.measure(), target, o.channelMultiple(), o.maxRatio(), profile);
    }

    /** Any channels will do when only the shape matters (latency does not depend on which channels are kept). */
    private static Map<Integer, int[]> firstChannels(ChannelAnalysis analysis, Map<Integer, Integer> counts) {
        Map<Integer, int[]> keep = new LinkedHashMap<>();
        for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
            ChannelGroup g = analysis.group(e.getKey());
            if (e.getValue() < g.channels()) {
                double[] flat = new double[g.channels()];
                keep.put(g.id(), ChannelImportance.top(flat, e.getValue(), g.blocks()));
            }
        }
        return keep;
    }

    /**
     * @param calibration calibration samples; may be null only for UNIFORM allocation, data-free importance and no
     *     recalibration
     */
    public static Result run(OnnxModel model, Dataset calibration, Options o) {
        boolean needsData = o.allocation() == Allocation.SENSITIVITY || o.criterion().needsData()
                || o.recalibration() != Recalibration.NONE;
        if (needsData && calibration == null) {
            throw new IllegalArgumentException("these pruning options need calibration data");
        }
        ChannelAnalysis analysis = ChannelAnalysis.analyze(model);
        return run(model, analysis, calibration, o, null);
    }

    /** As {@link #run(OnnxModel, Dataset, Options)} with an existing analysis and, optionally, measured curves. */
    public static Result run(OnnxModel model, ChannelAnalysis analysis, Dataset calibration, Options o,
            List<Sensitivity.Curve> knownCurves) {
        List<String> notes = new ArrayList<>();
        Map<Integer, double[]> scores = ChannelImportance.score(analysis, o.criterion(), calibration,
                o.calibrationSamples());
        List<Sensitivity.Curve> curves = List.of();
        Map<Integer, Integer> counts;
        LatencyProfile profile = null;
        Map<String, io.edgefleet.engine.onnx.TensorData> feeds = null;
        if (o.measure() == BudgetAllocator.Measure.LATENCY && !analysis.prunableGroups().isEmpty()) {
            feeds = calibration != null ? calibration.feeds(model, 0, 1)
                    : io.edgefleet.engine.eval.OrtRunner.syntheticFeeds(model);
            profile = LatencyProfile.measure(model, feeds, 60);
            notes.add(String.format(java.util.Locale.ROOT, "latency profile: %.0f us per run, %.0f us not tied to a "
                    + "node", profile.totalUs(), profile.fixedUs()));
        }
        if (analysis.prunableGroups().isEmpty()) {
            counts = Map.of();
            notes.add("no channel group can be pruned");
        } else {
            if (o.allocation() == Allocation.SENSITIVITY) {
                curves = knownCurves != null ? knownCurves
                        : Sensitivity.measure(model, analysis, scores, calibration, o.sensitivity());
            }
            counts = allocate(analysis, curves, o, o.targetFraction(), profile);
            if (profile != null) {
                // The profile predicts; a measurement decides. Tighten the target while the pruned graph is too slow.
                double target = o.targetFraction();
                for (int round = 0; round < 3; round++) {
                    OnnxModel shape = ChannelPruner.apply(analysis, firstChannels(analysis, counts)).model();
                    List<LatencyProbe.Stats> st = LatencyProbe.compare(List.of(model, shape), feeds, 10, 6, 30);
                    double measured = st.get(1).medianMs() / st.get(0).medianMs();
                    notes.add(String.format(java.util.Locale.ROOT, "latency at predicted %.3f: measured %.3f of the base",
                            BudgetAllocator.predictedFraction(analysis, o.measure(), counts, profile), measured));
                    if (measured <= o.targetFraction() * 1.02) {
                        break;
                    }
                    target = Math.max(0.02, target * o.targetFraction() / measured);
                    try {
                        counts = allocate(analysis, curves, o, target, profile);
                    } catch (IllegalArgumentException e) {
                        notes.add("latency target not reachable: " + e.getMessage());
                        break;
                    }
                }
            }
        }
        return finish(model, analysis, calibration, o, scores, counts, curves, profile, notes);
    }

    /**
     * Prunes to given channel counts (no allocation) and recalibrates: for comparing recalibration methods on
     * exactly the same architecture.
     */
    public static Result runWithCounts(OnnxModel model, ChannelAnalysis analysis, Dataset calibration, Options o,
            Map<Integer, Integer> counts) {
        Map<Integer, double[]> scores = ChannelImportance.score(analysis, o.criterion(), calibration,
                o.calibrationSamples());
        return finish(model, analysis, calibration, o, scores, counts, List.of(), null, new ArrayList<>());
    }

    private static Result finish(OnnxModel model, ChannelAnalysis analysis, Dataset calibration, Options o,
            Map<Integer, double[]> scores, Map<Integer, Integer> counts, List<Sensitivity.Curve> curves,
            LatencyProfile profile, List<String> notes) {
        Map<Integer, int[]> keep = new LinkedHashMap<>();
        Map<Integer, Integer> pruned = new LinkedHashMap<>();
        for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
            ChannelGroup grp = analysis.group(e.getKey());
            if (e.getValue() < grp.channels()) {
                keep.put(grp.id(), ChannelImportance.top(scores.get(grp.id()), e.getValue(), grp.blocks()));
                pruned.put(grp.id(), e.getValue());
            }
        }
        ChannelPruner.Result pr = ChannelPruner.apply(analysis, keep);
        OnnxModel out = pr.model();
        List<LeastSquaresReconstruction.LayerFit> fits = List.of();
        if (o.recalibration() != Recalibration.NONE && !keep.isEmpty()) {
            BatchNormRecalibration.Result bn = BatchNormRecalibration.recalibrate(out, calibration,
                    o.calibrationSamples());
            out = bn.model();
            if (!bn.recalibrated().isEmpty()) {
                notes.add("BatchNorm statistics re-estimated: " + bn.recalibrated());
            }
            if (o.recalibration() == Recalibration.BIAS_CORRECTION) {
                BiasCorrection.Result bc = BiasCorrection.correct(model, out, pr.channelMap(), calibration,
                        o.calibrationSamples());
                out = bc.model();
                notes.add("bias corrected on " + bc.layers().size() + " layers");
            } else {
                LeastSquaresReconstruction.Result ls = LeastSquaresReconstruction.reconstruct(model, out,
                        pr.channelMap(), calibration, o.ls(), null);
                out = ls.model();
                fits = ls.layers();
                long refit = fits.stream().filter(LeastSquaresReconstruction.LayerFit::rewritten).count();
                notes.add("least-squares refit of " + refit + " of " + fits.size() + " layers");
            }
        }
        double predicted = o.measure() == BudgetAllocator.Measure.LATENCY && profile == null
                ? BudgetAllocator.predictedFraction(analysis, BudgetAllocator.Measure.MACS, pruned)
                : BudgetAllocator.predictedFraction(analysis, o.measure(), pruned, profile);
        return new Result(out, analysis.groups(), pruned, curves, predicted, pr.channelMap(), fits, notes);
    }
}
