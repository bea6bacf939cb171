package io.edgefleet.engine.prune;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Chooses how many channels each group keeps so the model meets a cost target with the least predicted damage.
 * Greedy on marginal cost: repeatedly remove one step of channels from the group whose next step costs the least
 * damage per unit of cost saved (damage from the group's sensitivity curve, cost from the pruned-cost model), until
 * the target is met. Damage of several groups is assumed to add up, the usual first-order approximation.
 */
public final class BudgetAllocator {
    private BudgetAllocator() {
    }

    /** What the target limits: multiply-accumulates, weights, or latency predicted from a {@link LatencyProfile}. */
    public enum Measure { MACS, PARAMS, LATENCY }

    /**
     * @param curves sensitivity per prunable group (groups without a curve are left whole)
     * @param targetFraction cost after pruning as a fraction of the base cost, e.g. 0.4 for 2.5x fewer MACs
     * @param channelMultiple kept counts are multiples of this (times the group's block count); SIMD kernels like
     *     channel counts that are multiples of 4 or 8
     * @param maxRatio no group loses more than this fraction of its channels
     * @return kept channel count per group id
     * @throws IllegalArgumentException when the target cannot be met within {@code maxRatio}
     */
    public static Map<Integer, Integer> allocate(ChannelAnalysis analysis, List<Sensitivity.Curve> curves,
            Measure measure, double targetFraction, int channelMultiple, double maxRatio) {
        return allocate(analysis, curves, measure, targetFraction, channelMultiple, maxRatio, null);
    }

    /** @param profile the unpruned model's latency profile; required for {@link Measure#LATENCY} */
    public static Map<Integer, Integer> allocate(ChannelAnalysis analysis, List<Sensitivity.Curve> curves,
            Measure measure, double targetFraction, int channelMultiple, double maxRatio, LatencyProfile profile) {
        if (targetFraction <= 0 || targetFraction > 1) {
            throw new IllegalArgumentException("target fraction must be in (0, 1], got " + targetFraction);
        }
        PruneCostModel cost = model(analysis, measure, profile);
        double base = cost.base(measure);
        double target = base * targetFraction;
        Map<Integer, Integer> keep = new LinkedHashMap<>();
        Map<Integer, Sensitivity.Curve> byGroup = new LinkedHashMap<>();
        Map<Integer, Integer> steps = new LinkedHashMap<>();
        Map<Integer, Integer> floor = new LinkedHashMap<>();
        for (Sensitivity.Curve c : curves) {
            ChannelGroup grp = analysis.group(c.group());
            if (!grp.prunable()) {
                continue;
            }
            byGroup.put(grp.id(), c);
            keep.put(grp.id(), grp.channels());
            int step = Math.max(1, channelMultiple) * grp.blocks();
            steps.put(grp.id(), step);
            int min = (int) Math.ceil(grp.channels() * (1 - maxRatio));
            min = Math.max(step, ((min + step - 1) / step) * step);
            floor.put(grp.id(), Math.min(min, grp.channels()));
        }
        double now = measure(cost, measure, keep);
        while (now > target) {
            int best = -1;
            double bestScore = Double.POSITIVE_INFINITY;
            double bestCost = now;
            for (Map.Entry<Integer, Integer> e : keep.entrySet()) {
                int id = e.getKey();
                int k = e.getValue();
                int step = steps.get(id);
                // First step from an unaligned count goes down to the multiple.
                int next = k % step == 0 ? k - step : k - k % step;
                if (next < floor.get(id)) {
                    continue;
                }
                int channels = analysis.group(id).channels();
                Sensitivity.Curve c = byGroup.get(id);
                double dDamage = c.damageAt(1 - (double) next / channels) - c.damageAt(1 - (double) k / channels);
                keep.put(id, next);
                double after = measure(cost, measure, keep);
                keep.put(id, k);
                double saved = now - after;
                if (saved <= 0) {
                    continue;
                }
                double score = Math.max(dDamage, 0) / saved;
                if (score < bestScore || (score == bestScore && after < bestCost)) {
                    bestScore = score;
                    best = id;
                    bestCost = after;
                }
            }
            if (best < 0) {
                throw new IllegalArgumentException(String.format(
                        "cannot reach %.1f%% of the base %s: %.1f%% is the least possible with at most %.0f%% of each "
                                + "group's channels removed", 100 * targetFraction, measure, 100 * now / base,
                        100 * maxRatio));
            }
            int k = keep.get(best);
            int step = steps.get(best);
            keep.put(best, k % step == 0 ? k - step : k - k % step);
            now = bestCost;
        }
        return keep;
    }

    /**
     * One ratio for every prunable group, the smallest (on a 1/256 grid) that meets the target: the data-free
     * reference allocation.
     *
     * @throws IllegalArgumentException when even {@code maxRatio} everywhere does not meet the target
     */
    public static Map<Integer, Integer> uniform(ChannelAnalysis analysis, Measure measure, double targetFraction,
            int channelMultiple, double maxRatio) {
        return uniform(analysis, measure, targetFraction, channelMultiple, maxRatio, null);
    }

    public static Map<Integer, Integer> uniform(ChannelAnalysis analysis, Measure measure, double targetFraction,
            int channelMultiple, double maxRatio, LatencyProfile profile) {
        PruneCostModel cost = model(analysis, measure, profile);
        double base = cost.base(measure);
        for (int step = 0; step <= 256; step++) {
            double ratio = Math.min(maxRatio, step / 256.0);
            Map<Integer, Integer> keep = new LinkedHashMap<>();
            for (ChannelGroup grp : analysis.prunableGroups()) {
                keep.put(grp.id(), Sensitivity.keepCount(grp, ratio, channelMultiple));
            }
            if (measure(cost, measure, keep) <= base * targetFraction) {
                return keep;
            }
            if (ratio >= maxRatio) {
                break;
            }
        }
        throw new IllegalArgumentException(String.format("cannot reach %.1f%% of the base %s with one ratio of at most "
                + "%.0f%% for every group", 100 * targetFraction, measure, 100 * maxRatio));
    }

    /** The predicted cost of a keep-set as a fraction of the base. */
    public static double predictedFraction(ChannelAnalysis analysis, Measure measure, Map<Integer, Integer> keep) {
        return predictedFraction(analysis, measure, keep, null);
    }

    public static double predictedFraction(ChannelAnalysis analysis, Measure measure, Map<Integer, Integer> keep,
            LatencyProfile profile) {
        PruneCostModel cost = model(analysis, measure, profile);
        return cost.cost(measure, keep) / cost.base(measure);
    }

    private static PruneCostModel model(ChannelAnalysis analysis, Measure measure, LatencyProfile profile) {
        if (measure == Measure.LATENCY && profile == null) {
            throw new IllegalArgumentException("a latency target needs a latency profile of the unpruned model");
        }
        return new PruneCostModel(analysis, profile);
    }

    private static double measure(PruneCostModel cost, Measure m, Map<Integer, Integer> keep) {
        return cost.cost(m, keep);
    }
}
