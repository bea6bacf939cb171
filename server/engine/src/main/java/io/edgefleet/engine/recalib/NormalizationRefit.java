package io.edgefleet.engine.recalib;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Re-estimates the per-channel scale and shift of a layer normalization after the layers before it were pruned: the
 * transformer counterpart of re-estimating BatchNorm statistics. For each channel j the pair (γ_j, β_j) is refit by
 * least squares so that {@code γ_j n_j + β_j}, with {@code n} the pruned model's normalized value, matches the float
 * model's normalization output on the calibration tokens. Two parameters per channel against thousands of tokens
 * cannot overfit in the usual sense, but the new pair is kept only when it also lowers the error on the held-out
 * fifth of the samples.
 *
 * <p>Supported forms: the {@code LayerNormalization} operator over the last axis, and the pattern exporters write
 * for it, {@code Add(Mul(Div(Sub(x, mean), std), γ), β)} with γ and β initializers.
 */
public final class NormalizationRefit {
    private static final int HOLD_EVERY = 5;

    private NormalizationRefit() {
    }

    /**
     * One normalization's affine end.
     *
     * @param output the value the normalization produces (what the next layers read)
     * @param normalized the value before the affine step (decomposed form), or the normalization's input when
     *     {@code epsilon} is set (operator form: normalized here)
     * @param epsilon the operator's epsilon, or NaN for the decomposed form
     */
    public record Site(String output, String normalized, String gamma, String beta, double epsilon) {
    }

    /**
     * @param holdoutBefore squared error to the float output on the held-out samples with the old scale and shift
     * @param holdoutAfter the same with the pair fitted on the other samples
     * @param note what was done, or why nothing was
     */
    public record Outcome(Site site, boolean refit, double holdoutBefore, double holdoutAfter, String note) {
        /** Held-out error after over before (1 when nothing was refit). */
        public double ratio() {
            return refit && holdoutBefore > 0 ? holdoutAfter / holdoutBefore : 1;
        }
    }

    /** The normalization whose affine step produces {@code value}, if there is one with constant γ and β. */
    public static Optional<Site> producing(Graph g, String value) {
        Optional<NodeProto> p = g.producer(value);
        if (p.isEmpty() || !p.get().getDomain().isEmpty()) {
            return Optional.empty();
        }
        NodeProto n = p.get();
        if (n.getOpType().equals("LayerNormalization")) {
            long axis = LinearLayer.intAttr(n, "axis", -1);
            if (axis != -1 || n.getInputCount() < 3 || !g.isInitializer(n.getInput(1))
                    || !g.isInitializer(n.getInput(2))) {
                return Optional.empty();
            }
            return Optional.of(new Site(value, n.getInput(0), n.getInput(1), n.getInput(2),
                    LinearLayer.floatAttr(n, "epsilon", 1e-5f)));
        }
        if (!n.getOpType().equals("Add")) {
            return Optional.empty();
        }
        for (int k = 0; k < 2; k++) {
            String beta = n.getInput(k);
            String scaled = n.getInput(1 - k);
            Optional<NodeProto> mul = g.producer(scaled);
            if (!g.isInitializer(beta) || mul.isEmpty() || !mul.get().getOpType().equals("Mul")) {
                continue;
            }
            for (int j = 0; j < 2; j++) {
                String gamma = mul.get().getInput(j);
                String normalized = mul.get().getInput(1 - j);
                Optional<NodeProto> div = g.producer(normalized);
                if (g.isInitializer(gamma) && div.isPresent() && div.get().getOpType().equals("Div")
                        && g.producer(div.get().getInput(0)).map(s -> s.getOpType().equals("Sub")).orElse(false)) {
                    return Optional.of(new Site(value, normalized, gamma, beta, Double.NaN));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Refits one site of {@code g} (the graph of {@code model}) in place.
     *
     * @param tokenMask a [samples, tokens] calibration input whose zeros mark padding rows to leave out, or null
     */
    public static Outcome refit(OnnxModel reference, OnnxModel model, Graph g, Site site, Dataset data,
            int maxSamples, String tokenMask) {
        if (LinearLayer.usesOf(g, site.gamma()) != 1 || LinearLayer.usesOf(g, site.beta()) != 1) {
            return new Outcome(site, false, Double.NaN, Double.NaN, "scale or shift shared with other nodes");
        }
        float[] gamma = g.initializer(site.gamma()).floats();
        float[] beta = g.initializer(site.beta()).floats();
        int c = gamma.length;
        if (beta.length != c) {
            return new Outcome(site, false, Double.NaN, Double.NaN, "scale and shift differ in length");
        }
        // Per channel and part (0 fit, 1 held out): Σ1, Σn, Σn², Σy, Σny, Σy².
        double[][] sums = new double[2][6 * c];
        long[] mask = tokenMask == null ? null : data.input(tokenMask).longs();
        int tokens = mask == null ? 0 : mask.length / data.size();
        PairedCapture.run(reference, List.of(site.output()), model, List.of(site.normalized()), data, maxSamples,
                tokenMask, (first, count, ref, cand) -> {
                    TensorData nt = cand.get(site.normalized());
                    float[] n = nt.floats();
                    float[] y = ref.get(site.output()).floats();
                    if (nt.dim(nt.rank() - 1) != c || y.length != n.length) {
                        throw new IllegalStateException("normalization " + site.output() + ": " + c
                                + " channels, the captured value has shape " + Arrays.toString(nt.shape()));
                    }
                    int rows = n.length / c;
                    int perSample = rows / count;
                    double[] row = new double[c];
                    for (int r = 0; r < rows; r++) {
                        int sample = first + r / perSample;
                        int token = r % perSample;
                        if (mask != null && nt.rank() == 3 && mask[sample * tokens + token] == 0) {
                            continue;
                        }
                        normalizedRow(n, r * c, c, site.epsilon(), row);
                        double[] s = sums[sample % HOLD_EVERY == HOLD_EVERY - 1 ? 1 : 0];
                        for (int j = 0; j < c; j++) {
                            double x = row[j];
                            double t = y[r * c + j];
                            s[6 * j] += 1;
                            s[6 * j + 1] += x;
                            s[6 * j + 2] += x * x;
                            s[6 * j + 3] += t;
                            s[6 * j + 4] += x * t;
                            s[6 * j + 5] += t * t;
                        }
                    }
                });
        float[] g2 = new float[c];
        float[] b2 = new float[c];
        double before = 0;
        double after = 0;
        for (int j = 0; j < c; j++) {
            double[] fit = fit(sums[0], j, gamma[j], beta[j]);
            before += error(sums[1], j, gamma[j], beta[j]);
            after += error(sums[1], j, fit[0], fit[1]);
            double[] all = new double[6];
            for (int k = 0; k < 6; k++) {
                all[k] = sums[0][6 * j + k] + sums[1][6 * j + k];
            }
            double[] full = fit(all, 0, gamma[j], beta[j]);
            g2[j] = (float) full[0];
            b2[j] = (float) full[1];
        }
        double scale = 0;
        for (int j = 0; j < c; j++) {
            scale += sums[1][6 * j + 5];
        }
        if (before <= 1e-9 * scale) {
            return new Outcome(site, false, before, before, "already matches the float model");
        }
        if (!(after < before)) {
            return new Outcome(site, false, before, after, "no gain on held-out samples");
        }
        g.setInitializer(TensorData.ofFloats(site.gamma(), g.initializer(site.gamma()).shape(), g2));
        g.setInitializer(TensorData.ofFloats(site.beta(), g.initializer(site.beta()).shape(), b2));
        return new Outcome(site, true, before, after, "scale and shift refit");
    }

    /** The row as the normalization's affine step sees it (already normalized in the decomposed form). */
    private static void normalizedRow(float[] v, int off, int c, double epsilon, double[] out) {
        if (Double.isNaN(epsilon)) {
            for (int j = 0; j < c; j++) {
                out[j] = v[off + j];
            }
            return;
        }
        double mean = 0;
        for (int j = 0; j < c; j++) {
            mean += v[off + j];
        }
        mean /= c;
        double var = 0;
        for (int j = 0; j < c; j++) {
            double d = v[off + j] - mean;
            var += d * d;
        }
        double inv = 1 / Math.sqrt(var / c + epsilon);
        for (int j = 0; j < c; j++) {
            out[j] = (v[off + j] - mean) * inv;
        }
    }

    /** Least squares of y on [n 1] for channel j, shrunk very slightly toward the current pair. */
    private static double[] fit(double[] s, int j, double g0, double b0) {
        double n = s[6 * j];
        if (n < 2) {
            return new double[] {g0, b0};
        }
        double sx = s[6 * j + 1];
        double sxx = s[6 * j + 2];
        double sy = s[6 * j + 3];
        double sxy = s[6 * j + 4];
        double lambda = 1e-6 * n;
        double a11 = sxx + lambda;
        double a12 = sx;
        double a22 = n + lambda;
        double r1 = sxy + lambda * g0;
        double r2 = sy + lambda * b0;
        double det = a11 * a22 - a12 * a12;
        if (!(det > 0)) {
            return new double[] {g0, b0};
        }
        return new double[] {(r1 * a22 - a12 * r2) / det, (a11 * r2 - a12 * r1) / det};
    }

    /** Σ(y - γn - β)² of channel j from the sums. */
    private static double error(double[] s, int j, double gamma, double beta) {
        double n = s[6 * j];
        double sx = s[6 * j + 1];
        double sxx = s[6 * j + 2];
        double sy = s[6 * j + 3];
        double sxy = s[6 * j + 4];
        double syy = s[6 * j + 5];
        return syy - 2 * gamma * sxy - 2 * beta * sy + gamma * gamma * sxx + 2 * gamma * beta * sx + beta * beta * n;
    }
}
