package io.edgefleet.engine;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Deterministic datasets for the sample models, labelled by the model's own predictions where a test needs it. */
public final class TestData {
    private TestData() {
    }

    /** {@code n} samples of x[64] for the MLP, uniform in [0, 1). */
    public static TensorData mlpInputs(int n, long seed) {
        return TensorData.ofFloats("x", new long[] {n, 64}, OnnxBuilder.randomUniform(seed, n * 64, 0, 1));
    }

    /** The class the model predicts for each sample (arg max of its first output). */
    public static long[] predictions(OnnxModel model, TensorData x) {
        try (OrtRunner r = OrtRunner.open(model)) {
            TensorData out = r.run(Map.of(x.name(), x)).values().iterator().next();
            int n = (int) out.dim(0);
            int c = out.elementCount() / n;
            long[] pred = new long[n];
            float[] v = out.floats();
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int j = 1; j < c; j++) {
                    if (v[i * c + j] > v[i * c + best]) {
                        best = j;
                    }
                }
                pred[i] = best;
            }
            return pred;
        }
    }

    /** Labels equal to the model's predictions except for the first {@code wrong} samples (shifted by one). */
    public static long[] labelsWithErrors(OnnxModel model, TensorData x, int wrong) {
        long[] labels = predictions(model, x);
        for (int i = 0; i < wrong; i++) {
            labels[i] = (labels[i] + 1) % 10;
        }
        return labels;
    }

    public static long[] cohorts(int n, int k) {
        long[] c = new long[n];
        for (int i = 0; i < n; i++) {
            c[i] = i % k;
        }
        return c;
    }

    /** An MLP dataset with labels (all but {@code wrong} matching the model) and 3 cohorts. */
    public static Dataset labelledMlp(OnnxModel model, int n, int wrong, long seed) {
        TensorData x = mlpInputs(n, seed);
        return Dataset.of(Map.of("x", x), labelsWithErrors(model, x, wrong), cohorts(n, 3));
    }

    /** Writes a dataset the way NumPy would ({@code np.savez}). */
    public static Path writeNpz(Path file, TensorData x, long[] labels, long[] cohorts) throws IOException {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put(x.name(), NpyArray.ofFloats(x.floats(), x.shape()));
        if (labels != null) {
            arrays.put("labels", NpyArray.ofLongs(labels, labels.length));
        }
        if (cohorts != null) {
            arrays.put("cohort", NpyArray.ofLongs(cohorts, cohorts.length));
        }
        Npz.write(file, arrays);
        return file;
    }
}
