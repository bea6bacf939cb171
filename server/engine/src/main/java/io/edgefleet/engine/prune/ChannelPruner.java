package io.edgefleet.engine.prune;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import io.edgefleet.engine.prune.ChannelAnalysis.Edit;
import io.edgefleet.engine.prune.ChannelAnalysis.GroupAttrEdit;
import io.edgefleet.engine.prune.ChannelAnalysis.GroupedSliceEdit;
import io.edgefleet.engine.prune.ChannelAnalysis.ReshapeEdit;
import io.edgefleet.engine.prune.ChannelAnalysis.SliceEdit;
import io.edgefleet.engine.prune.ChannelAnalysis.Space;
import io.edgefleet.engine.prune.ChannelAnalysis.ValueEdit;
import io.edgefleet.engine.recalib.AxisSlice;
import io.edgefleet.engine.recalib.ChannelMap;
import io.edgefleet.engine.recalib.LinearLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Removes channels for real: slices producer rows, per-channel parameters and consumer columns, fixes depthwise
 * {@code group} attributes and constant Reshape targets, and rewrites the value_info shapes of every value that
 * carries the channels, so the written model is smaller and its declared shapes match what ONNX Runtime computes.
 */
public final class ChannelPruner {
    private ChannelPruner() {
    }

    /** A pruned model and, for every value whose channels changed, which of the original channels it keeps. */
    public record Result(OnnxModel model, Map<Integer, int[]> kept, ChannelMap channelMap) {
    }

    /**
     * @param keep group id to the sorted channel indices that survive; groups not listed keep everything
     * @throws IllegalArgumentException for an unknown or unprunable group, bad indices, or an unbalanced removal in a
     *     group that feeds a grouped convolution
     */
    public static Result apply(ChannelAnalysis analysis, Map<Integer, int[]> keep) {
        Map<Integer, ChannelGroup> groups = new LinkedHashMap<>();
        for (ChannelGroup grp : analysis.groups()) {
            groups.put(grp.id(), grp);
        }
        Map<Integer, int[]> checked = new LinkedHashMap<>();
        for (Map.Entry<Integer, int[]> e : keep.entrySet()) {
            ChannelGroup grp = groups.get(e.getKey());
            if (grp == null) {
                throw new IllegalArgumentException("no channel group " + e.getKey() + " in the analysis");
            }
            int[] idx = e.getValue();
            validate(grp, idx);
            if (idx.length == grp.channels()) {
                continue;
            }
            if (!grp.prunable()) {
                throw new IllegalArgumentException("group " + grp.label() + " cannot be pruned: "
                        + String.join("; ", grp.reasons()));
            }
            checked.put(grp.id(), idx.clone());
        }
        java.util.function.IntFunction<int[]> keptOf = atom -> {
            int root = analysis.find(atom);
            int[] k = checked.get(root);
            return k != null ? k : AxisSlice.all(groups.get(root).channels());
        };

        Graph g = analysis.model().edit();
        Map<String, TensorData> inits = new LinkedHashMap<>();
        for (Edit e : analysis.edits()) {
            if (e instanceof SliceEdit s) {
                int[] idx = ChannelAnalysis.indices(s.space(), keptOf);
                if (!AxisSlice.isIdentity(idx, s.space().width())) {
                    TensorData t = inits.computeIfAbsent(s.init(), g::initializer);
                    inits.put(s.init(), AxisSlice.take(t, s.axis(), idx));
                }
            } else if (e instanceof GroupedSliceEdit s) {
                int[] idx = ChannelAnalysis.indices(s.space(), keptOf);
                if (!AxisSlice.isIdentity(idx, s.space().width())) {
                    TensorData t = inits.computeIfAbsent(s.init(), g::initializer);
                    inits.put(s.init(), groupedInputs(t, s.groups(), s.space().width(), idx));
                }
            } else if (e instanceof ReshapeEdit r) {
                int width = ChannelAnalysis.indices(r.space(), keptOf).length;
                if (width != r.space().width()) {
                    TensorData t = inits.computeIfAbsent(r.shapeInit(), g::initializer);
                    long[] v = t.longs().clone();
                    v[r.position()] = width;
                    inits.put(r.shapeInit(), TensorData.ofInt64(t.name(), t.shape(), v));
                }
            } else if (e instanceof GroupAttrEdit a) {
                int width = ChannelAnalysis.indices(a.space(), keptOf).length;
                if (width != a.space().width()) {
                    NodeProto n = g.producer(a.output()).orElseThrow();
                    g.replaceNode(n, LinearLayer.withIntAttr(n, "group", width));
                }
            } else if (e instanceof ValueEdit v) {
                updateValueInfo(g, v.value(), v.space(), keptOf);
            }
        }
        inits.values().forEach(g::setInitializer);

        Map<String, ChannelMap.Entry> map = new LinkedHashMap<>();
        for (Map.Entry<String, Space> e : analysis.spaces().entrySet()) {
            Space s = e.getValue();
            int[] idx = ChannelAnalysis.indices(s, keptOf);
            if (!AxisSlice.isIdentity(idx, s.width())) {
                map.put(e.getKey(), new ChannelMap.Entry(s.axis(), s.width(), idx));
            }
        }
        return new Result(g.toModel(), checked, new ChannelMap(map));
    }

    private static void validate(ChannelGroup grp, int[] idx) {
        if (idx.length == 0) {
            throw new IllegalArgumentException("group " + grp.label() + " must keep at least one channel");
        }
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= grp.channels()) {
                throw new IllegalArgumentException("group " + grp.label() + " has " + grp.channels()
                        + " channels; index " + idx[i] + " is out of range");
            }
            if (i > 0 && idx[i] <= idx[i - 1]) {
                throw new IllegalArgumentException("kept channels of group " + grp.label()
                        + " must be sorted and distinct: " + Arrays.toString(idx));
            }
        }
        if (grp.blocks() > 1) {
            int per = grp.channels() / grp.blocks();
            int[] counts = new int[grp.blocks()];
            for (int i : idx) {
                counts[i / per]++;
            }
            for (int c : counts) {
                if (c != counts[0]) {
                    throw new IllegalArgumentException("group " + grp.label() + " feeds a grouped convolution: each of its "
                            + grp.blocks() + " blocks must keep the same number of channels, got " + Arrays.toString(counts));
                }
            }
        }
    }

    /** Grouped conv weights [O, I/G, ...]: output rows of group j keep the surviving inputs of block j. */
    private static TensorData groupedInputs(TensorData w, int groups, int inWidth, int[] keptInputs) {
        long[] shape = w.shape();
        int rows = (int) shape[0];
        int perGroupIn = inWidth / groups;
        int rowsPerGroup = rows / groups;
        int spatial = 1;
        for (int i = 2; i < shape.length; i++) {
            spatial *= (int) shape[i];
        }
        List<List<Integer>> local = new ArrayList<>();
        for (int j = 0; j < groups; j++) {
            local.add(new ArrayList<>());
        }
        for (int i : keptInputs) {
            local.get(i / perGroupIn).add(i % perGroupIn);
        }
        int keptPer = local.get(0).size();
        float[] src = w.floats();
        float[] dst = new float[rows * keptPer * spatial];
        for (int o = 0; o < rows; o++) {
            List<Integer> cols = local.get(o / rowsPerGroup);
            for (int c = 0; c < keptPer; c++) {
                System.arraycopy(src, (o * perGroupIn + cols.get(c)) * spatial, dst, (o * keptPer + c) * spatial, spatial);
            }
        }
        shape[1] = keptPer;
        return TensorData.ofFloats(w.name(), shape, dst);
    }

    private static void updateValueInfo(Graph g, String value, Space s, java.util.function.IntFunction<int[]> keptOf) {
        if (g.isGraphInput(value) || g.isGraphOutput(value)) {
            return;
        }
        ValueInfo vi = g.valueInfo(value).orElse(null);
        if (vi == null || !vi.hasShape()) {
            return;
        }
        int width = ChannelAnalysis.indices(s, keptOf).length;
        if (width == s.width()) {
            return;
        }
        if (vi.rank() <= s.axis()) {
            g.removeValueInfo(value); // stale or inconsistent: ONNX Runtime infers it again
            return;
        }
        List<ValueInfo.Dim> dims = new ArrayList<>(vi.dims());
        if (dims.get(s.axis()).isStatic()) {
            dims.set(s.axis(), ValueInfo.Dim.of(width));
            g.setValueInfo(new ValueInfo(value, vi.type(), dims, vi.tensor()));
        }
    }
}
