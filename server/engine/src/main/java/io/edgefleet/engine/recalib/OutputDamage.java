package io.edgefleet.engine.recalib;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How far a variant's outputs are from a reference model's on a fixed set of samples: {@code Σ (y - y_ref)² / Σ
 * y_ref²} over every float output. With a token mask, the rows of padding tokens in a {@code [samples, tokens, ...]}
 * output are left out: no real input produces them, and a model is free to compute anything there.
 */
final class OutputDamage {
    private static final int BATCH = 32;

    private final Dataset data;
    private final List<String> outputs;
    private final long[] mask;
    private final int tokens;
    /** Reference outputs, per batch, per output. */
    private final List<List<float[]>> reference = new ArrayList<>();
    private final double referenceSquares;

    /**
     * @param tokenMask name of an array of {@code data} ([samples, tokens], 0 = padding), or null to count every row
     */
    OutputDamage(OnnxModel referenceModel, Dataset data, String tokenMask) {
        this.data = data;
        this.outputs = referenceModel.outputs().stream().filter(v -> v.type() == ElemType.FLOAT).map(ValueInfo::name)
                .toList();
        if (outputs.isEmpty()) {
            throw new IllegalArgumentException("the model has no float output to measure damage on");
        }
        this.mask = tokenMask == null ? null : data.input(tokenMask).longs();
        this.tokens = mask == null ? 0 : mask.length / data.size();
        double sq = 0;
        try (OrtRunner run = OrtRunner.open(referenceModel)) {
            int batch = data.batchLimit(referenceModel, BATCH);
            for (int from = 0; from < data.size(); from += batch) {
                int to = Math.min(data.size(), from + batch);
                Map<String, TensorData> y = run.run(data.feeds(referenceModel, from, to), outputs);
                List<float[]> values = new ArrayList<>();
                for (String name : outputs) {
                    TensorData t = y.get(name);
                    values.add(t.floats());
                    sq += squares(t, null, from, to - from);
                }
                reference.add(values);
            }
        }
        this.referenceSquares = Math.max(sq, 1e-30);
    }

    /** Relative squared error of {@code model}'s outputs (same inputs and outputs as the reference). */
    double of(OnnxModel model) {
        double err = 0;
        try (OrtRunner run = OrtRunner.open(model)) {
            int batch = data.batchLimit(model, BATCH);
            int b = 0;
            for (int from = 0; from < data.size(); from += batch, b++) {
                int to = Math.min(data.size(), from + batch);
                Map<String, TensorData> y = run.run(data.feeds(model, from, to), outputs);
                for (int k = 0; k < outputs.size(); k++) {
                    err += squares(y.get(outputs.get(k)), reference.get(b).get(k), from, to - from);
                }
            }
        }
        return err / referenceSquares;
    }

    /** Σ (t - minus)² (minus null: Σ t²) over the rows of real tokens when {@code t} has a token axis. */
    private double squares(TensorData t, float[] minus, int first, int count) {
        float[] v = t.floats();
        if (v.length == 0) {
            return 0;
        }
        boolean masked = mask != null && t.rank() >= 2 && t.dim(0) == count && t.dim(1) == tokens;
        int row = masked ? v.length / (count * tokens) : v.length;
        double s = 0;
        for (int r = 0; r < v.length / row; r++) {
            if (masked && mask[first * tokens + r] == 0) {
                continue;
            }
            for (int i = r * row; i < (r + 1) * row; i++) {
                double d = minus == null ? v[i] : v[i] - minus[i];
                s += d * d;
            }
        }
        return s;
    }
}
