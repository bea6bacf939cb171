package io.edgefleet.engine.quantize;

import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import io.edgefleet.engine.quantize.calib.Calibrator;
import io.edgefleet.engine.quantize.calib.Range;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.DoubleConsumer;

/**
 * Mixed precision: static int8 everywhere the model can take it, float32 where it cannot. Each quantizable layer's
 * sensitivity is measured on calibration data by quantizing that layer alone and comparing the outputs with the
 * float model; then, starting from the fully quantized model, the most sensitive layers go back to float32 one at a
 * time until the damage is within the budget. Damage is the share of calibration samples whose top-1 class changes
 * (for classifier outputs), or the normalized squared output error otherwise.
 */
public final class MixedPrecisionQuantizer {

    /** Per-layer sensitivity and the final choice. */
    public record Layer(String node, String opType, double sensitivity, boolean quantized) {
    }

    public record Result(QuantizationResult quantization, List<Layer> layers, double damage, double fullInt8Damage) {
    }

    private final Calibrator.Method method;
    private final double budget;
    private final int maxSamples;

    /**
     * @param budget allowed damage: fraction of top-1 flips (0.005 = half a point) or normalized squared error
     */
    public MixedPrecisionQuantizer(Calibrator.Method method, double budget, int maxSamples) {
        if (!(budget >= 0)) {
            throw new IllegalArgumentException("budget must be >= 0");
        }
        this.method = method;
        this.budget = budget;
        this.maxSamples = maxSamples;
    }

    public Result quantize(OnnxModel model, Dataset calibration, DoubleConsumer progress) {
        OnnxModel prepared = StaticInt8Quantizer.prepare(model);
        List<String> candidates = StaticInt8Quantizer.candidateNodes(prepared);
        Map<String, Range> ranges = Calibration.ranges(prepared, calibration,
                StaticInt8Quantizer.tensorsToCalibrate(prepared), method, maxSamples);
        Damage damage = new Damage(prepared, calibration, maxSamples);
        StaticInt8Quantizer.Options base = StaticInt8Quantizer.Options.of(method).withMaxCalibrationSamples(maxSamples);
        Map<String, Double> sensitivity = new LinkedHashMap<>();
        for (int i = 0; i < candidates.size(); i++) {
            String layer = candidates.get(i);
            Set<String> others = new LinkedHashSet<>(candidates);
            others.remove(layer);
            OnnxModel one = new StaticInt8Quantizer(base.excluding(others)).quantize(prepared, ranges).model();
            sensitivity.put(layer, damage.of(one));
            progress.accept(0.8 * (i + 1) / Math.max(1, candidates.size()));
        }
        List<String> bySensitivity = new ArrayList<>(candidates);
        bySensitivity.sort(Comparator.comparingDouble((String l) -> -sensitivity.get(l)));
        Set<String> kept = new LinkedHashSet<>();
        QuantizationResult current = new StaticInt8Quantizer(base).quantize(prepared, ranges);
        double full = damage.of(current.model());
        double d = full;
        for (String layer : bySensitivity) {
            if (d <= budget) {
                break;
            }
            kept.add(layer);
            current = new StaticInt8Quantizer(base.excluding(kept)).quantize(prepared, ranges);
            d = damage.of(current.model());
        }
        progress.accept(1.0);
        Map<String, String> ops = new LinkedHashMap<>();
        for (NodeDecision nd : current.decisions()) {
            ops.put(nd.node(), nd.opType());
        }
        List<Layer> layers = new ArrayList<>();
        for (String l : candidates) {
            layers.add(new Layer(l, ops.getOrDefault(l, "?"), sensitivity.get(l), !kept.contains(l)));
        }
        List<NodeDecision> decisions = new ArrayList<>();
        for (NodeDecision nd : current.decisions()) {
            Double s = sensitivity.get(nd.node());
            String why = s == null ? nd.reason() : (kept.contains(nd.node())
                    ? "kept float32: sensitivity " + fmt(s) + " is among the highest and the budget " + fmt(budget)
                            + " needed it" : nd.reason() + "; sensitivity " + fmt(s));
            decisions.add(new NodeDecision(nd.node(), nd.opType(), nd.precision(), why));
        }
        OnnxModel out = current.model().withMetadata("edgefleet.quantization",
                "mixed-precision-" + method.name().toLowerCase(java.util.Locale.ROOT));
        return new Result(new QuantizationResult(out, decisions), layers, d, full);
    }

    private static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.4f", v);
    }

    /** Output damage of a candidate against the float model on the calibration samples. */
    private static final class Damage {
        private final Dataset data;
        private final int n;
        private final OnnxModel reference;
        private final List<float[]> floatOutputs = new ArrayList<>();
        private final String output;
        private final int classes;

        Damage(OnnxModel reference, Dataset data, int maxSamples) {
            this.reference = reference;
            this.data = data;
            this.n = Math.min(maxSamples, data.size());
            ValueInfo out = reference.outputs().get(0);
            this.output = out.name();
            long last = out.hasShape() && out.rank() >= 2 && out.dims().get(out.rank() - 1).isStatic()
                    ? out.dims().get(out.rank() - 1).value() : -1;
            this.classes = out.hasShape() && out.rank() == 2 && last > 1 ? (int) last : -1;
            floatOutputs.addAll(outputs(reference));
        }

        double of(OnnxModel candidate) {
            List<float[]> q = outputs(candidate);
            if (classes > 0) {
                long flips = 0;
                long total = 0;
                for (int b = 0; b < q.size(); b++) {
                    float[] a = floatOutputs.get(b);
                    float[] c = q.get(b);
                    for (int s = 0; s < a.length / classes; s++) {
                        flips += argmax(a, s * classes, classes) != argmax(c, s * classes, classes) ? 1 : 0;
                        total++;
                    }
                }
                // flips are coarse on small sets; the squared error breaks ties between layers that flip nothing
                return (double) flips / total + 1e-3 * nmse(q);
            }
            return nmse(q);
        }

        private double nmse(List<float[]> q) {
            double err = 0;
            double ref = 1e-30;
            for (int b = 0; b < q.size(); b++) {
                float[] a = floatOutputs.get(b);
                float[] c = q.get(b);
                for (int i = 0; i < a.length; i++) {
                    err += (a[i] - c[i]) * (double) (a[i] - c[i]);
                    ref += a[i] * (double) a[i];
                }
            }
            return err / ref;
        }

        private List<float[]> outputs(OnnxModel m) {
            List<float[]> out = new ArrayList<>();
            int batch = data.batchLimit(reference, Calibration.BATCH);
            try (OrtRunner s = OrtRunner.open(m)) {
                for (int from = 0; from < n; from += batch) {
                    Map<String, TensorData> feeds = data.feeds(reference, from, Math.min(n, from + batch));
                    out.add(s.run(feeds, List.of(output)).get(output).floats());
                }
            }
            return out;
        }

        private static int argmax(float[] v, int from, int len) {
            int best = 0;
            for (int i = 1; i < len; i++) {
                if (v[from + i] > v[from + best]) {
                    best = i;
                }
            }
            return best;
        }
    }
}
