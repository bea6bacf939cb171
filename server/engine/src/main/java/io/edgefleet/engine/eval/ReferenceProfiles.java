package io.edgefleet.engine.eval;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.protocol.drift.Bins;
import io.edgefleet.protocol.drift.ProfileBuilder;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.protocol.drift.TensorSample;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds a model's drift {@link ReferenceProfile} by running it with ONNX Runtime over reference data
 * (a validation or calibration set) and binning inputs and outputs with the shared-protocol code the
 * agents use, so both sides compute the same features from the same bins.
 */
public final class ReferenceProfiles {
    /** Samples beyond this are not used: a profile of quantile bins is stable long before. */
    public static final int DEFAULT_MAX_SAMPLES = 5000;

    private ReferenceProfiles() {
    }

    /**
     * @param source {@link ReferenceProfile#SOURCE_VALIDATION} or {@link ReferenceProfile#SOURCE_CALIBRATION}
     * @throws io.edgefleet.engine.BadInputException when the data does not fit the model
     * @throws ModelLoadException when ONNX Runtime refuses the model
     */
    public static ReferenceProfile build(OnnxModel model, Dataset data, String source, int maxSamples,
                                         OrtRunner.Options options) {
        return build(model, data, source, maxSamples, options, Bins.DEFAULT_BINS);
    }

    /** As above with {@code bins} inner quantile bins per continuous feature. */
    public static ReferenceProfile build(OnnxModel model, Dataset data, String source, int maxSamples,
                                         OrtRunner.Options options, int bins) {
        data.validateFor(model);
        int total = Math.min(maxSamples, data.size());
        int batch = data.batchLimit(model, 64);
        ProfileBuilder builder = new ProfileBuilder(bins, total);
        try (OrtRunner runner = OrtRunner.open(model, options)) {
            for (int from = 0; from < total; from += batch) {
                int to = Math.min(total, from + batch);
                Map<String, TensorData> feeds = data.feeds(model, from, to);
                Map<String, TensorData> outputs = runner.run(feeds);
                builder.add(samples(feeds.values()), samples(outputs.values()));
            }
        }
        return builder.build(source);
    }

    /** Engine tensors as the plain arrays the drift code reads: integers as longs, everything else as floats. */
    public static List<TensorSample> samples(Iterable<TensorData> tensors) {
        List<TensorSample> out = new ArrayList<>();
        for (TensorData t : tensors) {
            if (t.type().isInteger()) {
                long[] ids = new long[t.elementCount()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = (long) t.getDouble(i);
                }
                out.add(TensorSample.ofLongs(t.name(), t.shape(), ids));
            } else {
                out.add(TensorSample.ofFloats(t.name(), t.shape(), t.toFloatArray()));
            }
        }
        return out;
    }
}
