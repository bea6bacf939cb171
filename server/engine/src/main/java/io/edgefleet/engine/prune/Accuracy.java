package io.edgefleet.engine.prune;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Map;
import java.util.TreeMap;

/**
 * Quality of a model's first output on a data set: top-1 accuracy overall and per cohort (when the data has labels
 * and cohorts), and fidelity to a reference model (top-1 agreement, mean cosine of the outputs per sample, output
 * MSE relative to the reference's mean square). Accuracies are fractions in [0, 1].
 */
public record Accuracy(int samples, double top1, Map<Long, Double> top1ByCohort, double agreement, double meanCosine,
        double relativeMse) {

    private static final int BATCH = 64;

    /** @param reference the float model for fidelity figures, or null */
    public static Accuracy measure(OnnxModel model, OnnxModel reference, Dataset data, int maxSamples) {
        data.validateFor(model);
        int n = Math.min(maxSamples, data.size());
        int batch = data.batchLimit(model, BATCH);
        String out = model.outputs().get(0).name();
        long correct = 0;
        long agree = 0;
        double cosSum = 0;
        double errSum = 0;
        double refSq = 0;
        Map<Long, long[]> cohorts = new TreeMap<>();
        boolean labels = data.hasLabels();
        try (OrtRunner run = OrtRunner.open(model);
                OrtRunner ref = reference == null ? null : OrtRunner.open(reference)) {
            for (int from = 0; from < n; from += batch) {
                int to = Math.min(n, from + batch);
                Map<String, TensorData> feeds = data.feeds(model, from, to);
                float[] y = run.run(feeds, java.util.List.of(out)).get(out).floats();
                int per = y.length / (to - from);
                float[] r = ref == null ? null
                        : ref.run(feeds, java.util.List.of(reference.outputs().get(0).name())).values().iterator().next()
                                .floats();
                for (int s = 0; s < to - from; s++) {
                    int pred = argmax(y, s * per, per);
                    if (labels) {
                        boolean ok = pred == data.label(from + s);
                        correct += ok ? 1 : 0;
                        if (data.hasCohorts()) {
                            long[] c = cohorts.computeIfAbsent(data.cohort(from + s), k -> new long[2]);
                            c[0] += ok ? 1 : 0;
                            c[1]++;
                        }
                    }
                    if (r != null) {
                        agree += argmax(r, s * per, per) == pred ? 1 : 0;
                        double dot = 0;
                        double na = 0;
                        double nb = 0;
                        for (int i = 0; i < per; i++) {
                            double a = y[s * per + i];
                            double b = r[s * per + i];
                            dot += a * b;
                            na += a * a;
                            nb += b * b;
                            errSum += (a - b) * (a - b);
                        }
                        refSq += nb;
                        cosSum += na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / Math.sqrt(na * nb);
                    }
                }
            }
        }
        Map<Long, Double> byCohort = new TreeMap<>();
        cohorts.forEach((k, v) -> byCohort.put(k, (double) v[0] / v[1]));
        return new Accuracy(n, labels ? (double) correct / n : Double.NaN, byCohort,
                reference == null ? Double.NaN : (double) agree / n, reference == null ? Double.NaN : cosSum / n,
                reference == null ? Double.NaN : errSum / Math.max(refSq, 1e-30));
    }

    static int argmax(float[] v, int off, int len) {
        int best = 0;
        for (int i = 1; i < len; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }

    /** Largest drop of per-cohort accuracy against {@code base}, in points (0..100). */
    public double worstCohortDropPoints(Accuracy base) {
        double worst = 0;
        for (Map.Entry<Long, Double> e : base.top1ByCohort.entrySet()) {
            Double mine = top1ByCohort.get(e.getKey());
            if (mine != null) {
                worst = Math.max(worst, 100 * (e.getValue() - mine));
            }
        }
        return worst;
    }

    /** Accuracy lost against {@code base}, in points. */
    public double dropPoints(Accuracy base) {
        return 100 * (base.top1 - top1);
    }
}
