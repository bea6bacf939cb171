package io.edgefleet.engine.quantize;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/**
 * Float values of named activations, feed by feed, for passes calibrated on a list of feeds (which, unlike a
 * {@link io.edgefleet.engine.data.Dataset}, may differ in shape: sentences of different lengths). Graph inputs are
 * read from the feed itself; everything else is exposed as an extra output and read from one session run per feed.
 */
final class FeedActivations {
    private FeedActivations() {
    }

    /** At most {@code max} samples of a data set as feeds of the largest batch the model accepts. */
    static List<Map<String, TensorData>> batches(OnnxModel model, Dataset data, int max) {
        data.validateFor(model);
        int n = Math.min(data.size(), max);
        int batch = data.batchLimit(model, Calibration.BATCH);
        List<Map<String, TensorData>> feeds = new ArrayList<>();
        for (int from = 0; from < n; from += batch) {
            feeds.add(data.feeds(model, from, Math.min(n, from + batch)));
        }
        return feeds;
    }

    /** Calls {@code sink} once per feed and name, in feed order. */
    static void forEach(OnnxModel model, Collection<String> names, List<Map<String, TensorData>> feeds,
            BiConsumer<String, float[]> sink) {
        Set<String> inputs = model.inputs().stream().map(ValueInfo::name).collect(Collectors.toSet());
        List<String> probed = new ArrayList<>();
        for (String name : names) {
            if (!inputs.contains(name)) {
                probed.add(name);
            }
        }
        try (OrtRunner s = OrtRunner.open(OrtRunner.exposeValues(model, probed))) {
            for (Map<String, TensorData> feed : feeds) {
                Map<String, TensorData> run = probed.isEmpty() ? Map.of() : s.run(feed, probed);
                for (String name : names) {
                    TensorData t = inputs.contains(name) ? feed.get(name) : run.get(name);
                    if (t == null) {
                        throw new IllegalArgumentException("calibration feed has no input '" + name + "'");
                    }
                    sink.accept(name, t.floats());
                }
            }
        }
    }
}
