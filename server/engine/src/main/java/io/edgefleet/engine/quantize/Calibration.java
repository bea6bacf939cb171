package io.edgefleet.engine.quantize;

import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.quantize.calib.Calibrator;
import io.edgefleet.engine.quantize.calib.Range;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Streams a calibration set through the float model once and feeds every requested activation into its own
 * calibrator. Memory is bounded by the batch size and the calibrators' histograms, not by the data set.
 */
public final class Calibration {
    /** Samples per session run during calibration. */
    static final int BATCH = 32;

    private Calibration() {
    }

    /**
     * Ranges for {@code tensors} over at most {@code maxSamples} samples of {@code data}.
     *
     * @throws IllegalArgumentException when the data does not fit the model's inputs
     */
    public static Map<String, Range> ranges(OnnxModel model, Dataset data, Collection<String> tensors,
            Calibrator.Method method, int maxSamples) {
        data.validateFor(model); // throws with the array, expected and found when the data does not fit
        Map<String, Calibrator> calibrators = new LinkedHashMap<>();
        for (String t : tensors) {
            calibrators.put(t, method.create());
        }
        if (calibrators.isEmpty()) {
            return Map.of();
        }
        OnnxModel probe = OrtRunner.exposeValues(model, calibrators.keySet());
        int n = Math.min(data.size(), maxSamples);
        int batch = data.batchLimit(model, BATCH);
        try (OrtRunner s = OrtRunner.open(probe)) {
            List<String> names = new ArrayList<>(calibrators.keySet());
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                Map<String, TensorData> out = s.run(data.feeds(model, from, to), names);
                for (Map.Entry<String, TensorData> e : out.entrySet()) {
                    calibrators.get(e.getKey()).observe(e.getValue().floats());
                }
            }
        }
        Map<String, Range> ranges = new LinkedHashMap<>();
        for (Map.Entry<String, Calibrator> e : calibrators.entrySet()) {
            if (e.getValue().count() == 0) {
                throw new IllegalStateException("tensor '" + e.getKey() + "' produced no finite value on the "
                        + "calibration data");
            }
            ranges.put(e.getKey(), e.getValue().range());
        }
        return ranges;
    }
}
