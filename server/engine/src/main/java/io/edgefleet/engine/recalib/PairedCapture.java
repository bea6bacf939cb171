package io.edgefleet.engine.recalib;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a reference model (the float original) and a candidate (the compressed variant) over the same calibration
 * batches and hands both sets of captured intermediate values to a visitor. Recalibration compares the two: what
 * the candidate computes at a layer against what the original computed there for the same input samples.
 */
public final class PairedCapture {
    /** Default samples per session run. */
    public static final int BATCH = 32;

    private PairedCapture() {
    }

    @FunctionalInterface
    public interface Visitor {
        /** Values are valid only during the call; {@code reference} is empty when no reference values were asked. */
        void visit(int firstSample, int count, Map<String, TensorData> reference, Map<String, TensorData> candidate);
    }

    /**
     * @param reference the float model, or null when only candidate values are needed
     * @param maxSamples samples used from the start of {@code data}
     */
    public static void run(OnnxModel reference, Collection<String> referenceValues, OnnxModel candidate,
            Collection<String> candidateValues, Dataset data, int maxSamples, Visitor visitor) {
        run(reference, referenceValues, candidate, candidateValues, data, maxSamples, null, visitor);
    }

    /**
     * @param tokenMask name of a [samples, tokens] input whose zeros mark trailing padding, or null: each batch is
     *     then cut to its longest real sequence along axis 1 of every input that has the mask's token count there
     *     (when the model leaves that axis dynamic), so the runs skip the padding columns of a dataset padded to its
     *     longest sample; with the attention mask applied, real tokens compute the same values either way. The
     *     visitor sees the shorter batch: row counting per sample must use the captured shapes
     */
    public static void run(OnnxModel reference, Collection<String> referenceValues, OnnxModel candidate,
            Collection<String> candidateValues, Dataset data, int maxSamples, String tokenMask, Visitor visitor) {
        data.validateFor(candidate);
        int total = Math.min(maxSamples, data.size());
        int batch = data.batchLimit(candidate, BATCH);
        List<String> refNames = new ArrayList<>(new LinkedHashSet<>(referenceValues));
        List<String> candNames = new ArrayList<>(new LinkedHashSet<>(candidateValues));
        boolean useRef = reference != null && !refNames.isEmpty();
        OrtRunner ref = useRef ? OrtRunner.open(truncate(reference, refNames)) : null;
        try (OrtRunner cand = OrtRunner.open(truncate(candidate, candNames))) {
            for (int from = 0; from < total; from += batch) {
                int to = Math.min(total, from + batch);
                Map<String, TensorData> feeds = trim(data.feeds(candidate, from, to), candidate, tokenMask);
                Map<String, TensorData> r = useRef ? ref.run(feeds, refNames) : Map.of();
                Map<String, TensorData> c = candNames.isEmpty() ? Map.of() : cand.run(feeds, candNames);
                visitor.visit(from, to - from, r, c);
            }
        } finally {
            if (ref != null) {
                ref.close();
            }
        }
    }

    /** The feeds cut to the batch's longest real sequence (see {@link #run}); unchanged without a mask. */
    static Map<String, TensorData> trim(Map<String, TensorData> feeds, OnnxModel model, String tokenMask) {
        TensorData mask = tokenMask == null ? null : feeds.get(tokenMask);
        if (mask == null || mask.rank() != 2) {
            return feeds;
        }
        int tokens = (int) mask.dim(1);
        long[] m = mask.longs();
        int used = 1;
        for (int i = 0; i < m.length; i++) {
            if (m[i] != 0) {
                used = Math.max(used, i % tokens + 1);
            }
        }
        if (used == tokens) {
            return feeds;
        }
        for (ValueInfo in : model.inputs()) {
            TensorData t = feeds.get(in.name());
            if (t != null && t.rank() >= 2 && t.dim(1) == tokens && in.hasShape() && in.rank() == t.rank()
                    && in.dims().get(1).isStatic()) {
                return feeds; // the model fixes the sequence length
            }
        }
        Map<String, TensorData> out = new LinkedHashMap<>();
        int[] keep = AxisSlice.all(used);
        feeds.forEach((name, t) -> out.put(name, t.rank() >= 2 && t.dim(1) == tokens ? AxisSlice.take(t, 1, keep) : t));
        return out;
    }

    /**
     * A copy of the model whose outputs are exactly {@code values}, with every node they do not need removed: a
     * capture at an early layer then only runs the layers before it.
     */
    public static OnnxModel truncate(OnnxModel model, Collection<String> values) {
        if (values.isEmpty()) {
            return model;
        }
        // Expose first (validates the names, keeps known types), then drop the original outputs and dead nodes.
        OnnxModel exposed = OrtRunner.exposeValues(model, values);
        ModelProto.Builder b = exposed.proto().toBuilder();
        GraphProto.Builder gb = b.getGraphBuilder();
        List<ValueInfoProto> keep = new ArrayList<>();
        Set<String> wanted = new HashSet<>(values);
        for (ValueInfoProto v : gb.getOutputList()) {
            if (wanted.remove(v.getName())) {
                keep.add(v);
            }
        }
        gb.clearOutput().addAllOutput(keep);
        Graph g = OnnxModel.of(b.build()).edit();
        g.removeDeadNodes();
        return g.toModel();
    }
}
