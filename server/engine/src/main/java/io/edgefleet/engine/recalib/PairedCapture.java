package io.edgefleet.engine.recalib;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

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
        data.validateFor(candidate);
        int total = Math.min(maxSamples, data.size());
        int batch = data.batchLimit(candidate, BATCH);
        List<String> refNames = new ArrayList<>(new LinkedHashSet<>(referenceValues));
        List<String> candNames = new ArrayList<>(new LinkedHashSet<>(candidateValues));
        boolean useRef = reference != null && !refNames.isEmpty();
        OrtRunner ref = useRef ? OrtRunner.open(OrtRunner.exposeValues(reference, refNames)) : null;
        try (OrtRunner cand = OrtRunner.open(OrtRunner.exposeValues(candidate, candNames))) {
            for (int from = 0; from < total; from += batch) {
                int to = Math.min(total, from + batch);
                Map<String, TensorData> feeds = data.feeds(candidate, from, to);
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
}
