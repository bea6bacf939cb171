package io.edgefleet.engine.prune;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.prune.ChannelAnalysis.Consumer;
import io.edgefleet.engine.prune.ChannelAnalysis.Member;
import io.edgefleet.engine.prune.ChannelAnalysis.Norm;
import io.edgefleet.engine.prune.ChannelAnalysis.Producer;
import io.edgefleet.engine.recalib.PairedCapture;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How much each channel of a group matters, by one of several criteria. Higher is more important. Scores of the
 * several layers in a coupled group are each divided by their mean before summing, so one large-scale layer does
 * not decide for the group alone.
 */
public final class ChannelImportance {
    private ChannelImportance() {
    }

    public enum Criterion {
        /** L1 norm of each producer's output row. */
        L1,
        /** L2 norm of each producer's output row. */
        L2,
        /** |gamma| / sqrt(var + eps) of the BatchNorms on the channels; L2 where a group has no BatchNorm. */
        BN_SCALE,
        /** Mean |activation| of the channel over the calibration data, on every value carrying it. */
        ACTIVATION,
        /**
         * What removing the channel takes out of the next layers' inputs: E[x_c^2] * ||W_next[:, c]||^2 summed over
         * consumers (calibration data); the first-order output damage when the channel is dropped.
         */
        CONTRIBUTION;

        public boolean needsData() {
            return this == ACTIVATION || this == CONTRIBUTION;
        }
    }

    /**
     * Scores for every prunable group.
     *
     * @param data calibration samples; required by {@link Criterion#needsData()} criteria
     * @throws IllegalArgumentException when the criterion needs data and none is given
     */
    public static Map<Integer, double[]> score(ChannelAnalysis a, Criterion criterion, Dataset data, int maxSamples) {
        if (criterion.needsData() && data == null) {
            throw new IllegalArgumentException(criterion + " importance needs calibration data");
        }
        Graph g = a.model().edit();
        List<ChannelGroup> groups = a.prunableGroups();
        Map<Integer, double[]> out = new LinkedHashMap<>();
        Map<String, double[][]> stats = criterion.needsData() ? channelStats(a, groups, data, maxSamples) : Map.of();
        for (ChannelGroup grp : groups) {
            int root = grp.id();
            double[] total = new double[grp.channels()];
            switch (criterion) {
                case L1, L2 -> addProducerNorms(g, a.producersOf(root), criterion == Criterion.L1, total);
                case BN_SCALE -> {
                    List<Norm> norms = a.normsOf(root);
                    if (norms.isEmpty()) {
                        addProducerNorms(g, a.producersOf(root), false, total);
                    }
                    for (Norm n : norms) {
                        float[] gamma = g.initializer(n.scale()).toFloatArray();
                        float[] var = g.initializer(n.var()).toFloatArray();
                        double[] s = new double[grp.channels()];
                        for (int c = 0; c < s.length; c++) {
                            s[c] = Math.abs(gamma[n.offset() + c]) / Math.sqrt(var[n.offset() + c] + n.epsilon());
                        }
                        addNormalized(total, s);
                    }
                }
                case ACTIVATION -> {
                    for (Member m : a.membersOf(root)) {
                        double[][] st = stats.get(m.value());
                        if (st != null) {
                            addNormalized(total, perChannel(st[0], m.offset(), m.inner(), grp.channels()));
                        }
                    }
                }
                case CONTRIBUTION -> {
                    for (Consumer c : a.consumersOf(root)) {
                        double[][] st = stats.get(c.input());
                        TensorData w = g.initializer(c.weight());
                        if (st == null || w.dim(c.axis()) != st[1].length) {
                            continue; // grouped convolution: columns are per group, fall back to the others
                        }
                        double[] col = axisSquares(w, c.axis());
                        double[] s = new double[grp.channels()];
                        for (int ch = 0; ch < s.length; ch++) {
                            for (int j = 0; j < c.inner(); j++) {
                                int e = c.offset() + ch * c.inner() + j;
                                s[ch] += st[1][e] * col[e];
                            }
                        }
                        addNormalized(total, s);
                    }
                    if (Arrays.stream(total).allMatch(v -> v == 0)) {
                        addProducerNorms(g, a.producersOf(root), false, total);
                    }
                }
                default -> throw new IllegalStateException();
            }
            out.put(root, total);
        }
        return out;
    }

    private static void addProducerNorms(Graph g, List<Producer> producers, boolean l1, double[] total) {
        for (Producer p : producers) {
            TensorData w = g.initializer(p.weight());
            double[] s = l1 ? axisAbs(w, p.axis()) : axisSquares(w, p.axis());
            if (!l1) {
                for (int i = 0; i < s.length; i++) {
                    s[i] = Math.sqrt(s[i]);
                }
            }
            addNormalized(total, s);
        }
    }

    private static void addNormalized(double[] total, double[] s) {
        double mean = Arrays.stream(s).average().orElse(0);
        if (mean <= 0 || !Double.isFinite(mean)) {
            return;
        }
        for (int i = 0; i < total.length; i++) {
            total[i] += s[i] / mean;
        }
    }

    private static double[] perChannel(double[] entries, int offset, int inner, int channels) {
        double[] s = new double[channels];
        for (int c = 0; c < channels; c++) {
            for (int j = 0; j < inner; j++) {
                s[c] += entries[offset + c * inner + j];
            }
        }
        return s;
    }

    /** Sum of squares of a tensor over every axis but {@code axis}. */
    static double[] axisSquares(TensorData t, int axis) {
        return axisReduce(t, axis, true);
    }

    static double[] axisAbs(TensorData t, int axis) {
        return axisReduce(t, axis, false);
    }

    private static double[] axisReduce(TensorData t, int axis, boolean square) {
        long[] shape = t.shape();
        int dim = (int) shape[axis];
        int inner = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= (int) shape[i];
        }
        float[] v = t.toFloatArray();
        double[] out = new double[dim];
        for (int i = 0; i < v.length; i++) {
            int c = (i / inner) % dim;
            out[c] += square ? (double) v[i] * v[i] : Math.abs(v[i]);
        }
        return out;
    }

    /** Per value: [0] mean |x| per entry of the channel axis, [1] mean x^2, over the calibration data. */
    private static Map<String, double[][]> channelStats(ChannelAnalysis a, List<ChannelGroup> groups, Dataset data,
            int maxSamples) {
        Map<String, Integer> axes = new HashMap<>();
        for (ChannelGroup grp : groups) {
            for (Member m : a.membersOf(grp.id())) {
                axes.put(m.value(), m.axis());
            }
            for (Consumer c : a.consumersOf(grp.id())) {
                ChannelAnalysis.Space s = a.spaces().get(c.input());
                if (s != null) {
                    axes.put(c.input(), s.axis());
                }
            }
        }
        Set<String> names = new LinkedHashSet<>(axes.keySet());
        Map<String, double[][]> sums = new HashMap<>();
        long[] rows = new long[1];
        PairedCapture.run(null, List.of(), a.model(), names, data, maxSamples, (first, count, ref, cand) -> {
            for (Map.Entry<String, TensorData> e : cand.entrySet()) {
                int axis = axes.get(e.getKey());
                TensorData t = e.getValue();
                long[] shape = t.shape();
                int dim = (int) shape[axis];
                int inner = 1;
                for (int i = axis + 1; i < shape.length; i++) {
                    inner *= (int) shape[i];
                }
                double[][] acc = sums.computeIfAbsent(e.getKey(), k -> new double[][] {new double[dim], new double[dim],
                        new double[1]});
                float[] v = t.floats();
                for (int i = 0; i < v.length; i++) {
                    int c = (i / inner) % dim;
                    acc[0][c] += Math.abs(v[i]);
                    acc[1][c] += (double) v[i] * v[i];
                }
                acc[2][0] += (double) v.length / dim;
            }
            rows[0] += count;
        });
        Map<String, double[][]> out = new HashMap<>();
        for (Map.Entry<String, double[][]> e : sums.entrySet()) {
            double n = Math.max(1, e.getValue()[2][0]);
            double[] abs = e.getValue()[0].clone();
            double[] sq = e.getValue()[1].clone();
            for (int i = 0; i < abs.length; i++) {
                abs[i] /= n;
                sq[i] /= n;
            }
            out.put(e.getKey(), new double[][] {abs, sq});
        }
        return out;
    }

    /**
     * The {@code keep} highest-scoring channels, sorted by index. With {@code blocks > 1}, each block keeps
     * {@code keep / blocks} of its own channels (grouped convolutions need equal blocks).
     */
    public static int[] top(double[] scores, int keep, int blocks) {
        int n = scores.length;
        if (keep < 1 || keep > n) {
            throw new IllegalArgumentException("cannot keep " + keep + " of " + n + " channels");
        }
        List<Integer> chosen = new ArrayList<>();
        int b = Math.max(1, blocks);
        int per = n / b;
        int keepPer = Math.max(1, keep / b);
        for (int blk = 0; blk < b; blk++) {
            Integer[] idx = new Integer[per];
            for (int i = 0; i < per; i++) {
                idx[i] = blk * per + i;
            }
            // Ties broken by index so the choice is deterministic.
            Arrays.sort(idx, (x, y) -> scores[y] != scores[x] ? Double.compare(scores[y], scores[x]) : Integer.compare(x, y));
            chosen.addAll(Arrays.asList(idx).subList(0, keepPer));
        }
        return chosen.stream().mapToInt(Integer::intValue).sorted().toArray();
    }
}
