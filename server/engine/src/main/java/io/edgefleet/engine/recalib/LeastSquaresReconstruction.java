package io.edgefleet.engine.recalib;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;

/**
 * Layer-wise least-squares reconstruction, the gradient-free way a pruned network gets its accuracy back (after He,
 * Zhang and Sun, "Channel Pruning for Accelerating Very Deep Neural Networks", 2017): layer by layer in
 * topological order, refit the weights and bias of each linear layer so that, fed with what the <em>compressed</em>
 * model computes at its input, it reproduces what the <em>float</em> model computes at its output (on the channels
 * the compressed model kept). Working in order means each refit also absorbs the error of the layers before it.
 *
 * <p>The fit is ridge regression on the calibration rows (one per sample for Gemm, per token for MatMul, per sampled
 * output position for a convolution via im2col), solved from the normal equations with EJML. When a layer's output
 * feeds a residual {@code Add} directly, the target is the float {@code Add} output minus the compressed model's
 * other branch, so the refit also corrects the skip path. A layer is only rewritten when the fit lowers its error.
 */
public final class LeastSquaresReconstruction {

    /**
     * @param maxSamples calibration samples used
     * @param preserveZeros keep exactly-zero weights at zero (refit each output on its support), for sparse models
     * @param maxPositionsPerSample convolution output positions per sample (rows per sample)
     * @param ridge damping relative to the mean diagonal of XᵀX, shrinking toward the current weights (what the
     *     calibration data cannot determine stays as it was)
     * @param residualAware use the residual target described above
     * @param maxFeatures layers with more input features (e.g. huge fully connected layers) are skipped
     */
    public record Options(int maxSamples, int maxPositionsPerSample, double ridge, boolean residualAware,
            int maxFeatures, long seed, boolean preserveZeros) {
        public Options {
            if (maxSamples < 1 || maxPositionsPerSample < 1) {
                throw new IllegalArgumentException("maxSamples and maxPositionsPerSample must be >= 1");
            }
            if (ridge < 0) {
                throw new IllegalArgumentException("ridge must be >= 0");
            }
        }

        /** 256 samples, 64 positions per sample, ridge 1e-3, residual-aware, zeros preserved. */
        public static Options defaults() {
            return new Options(256, 64, 1e-3, true, 4096, 7, true);
        }

        public Options withRidge(double r) {
            return new Options(maxSamples, maxPositionsPerSample, r, residualAware, maxFeatures, seed, preserveZeros);
        }

        public Options withResidualAware(boolean on) {
            return new Options(maxSamples, maxPositionsPerSample, ridge, on, maxFeatures, seed, preserveZeros);
        }

        public Options withMaxSamples(int n) {
            return new Options(n, maxPositionsPerSample, ridge, residualAware, maxFeatures, seed, preserveZeros);
        }

        public Options withPositions(int n) {
            return new Options(maxSamples, n, ridge, residualAware, maxFeatures, seed, preserveZeros);
        }

        /** Keep exactly-zero weights at zero (refit each row on its support): for sparse models. */
        public Options withPreserveZeros(boolean on) {
            return new Options(maxSamples, maxPositionsPerSample, ridge, residualAware, maxFeatures, seed, on);
        }
    }

    /**
     * One layer's refit: relative squared error to the target (||Y - Ŷ||² / ||Y||²) before and after, on the
     * calibration rows. {@code note} says why a layer was skipped or left unchanged.
     */
    public record LayerFit(String layer, int features, int outputs, long rows, double errorBefore, double errorAfter,
            boolean rewritten, String note) {
    }

    public record Result(OnnxModel model, List<LayerFit> layers) {
    }

    private LeastSquaresReconstruction() {
    }

    /**
     * @param reference the float model
     * @param candidate the compressed model (same value names as the reference)
     * @param map channels the candidate kept, per value
     * @param only labels of the layers to refit, or null for every supported layer
     */
    public static Result reconstruct(OnnxModel reference, OnnxModel candidate, ChannelMap map, Dataset calibration,
            Options options, java.util.Set<String> only) {
        List<LayerFit> fits = new ArrayList<>();
        List<String> order = new ArrayList<>();
        for (LinearLayer l : LinearLayer.findAll(candidate)) {
            order.add(l.name());
        }
        Graph refGraph = reference.edit();
        OnnxModel current = candidate;
        for (String name : order) {
            if (only != null && !only.contains(name)) {
                continue;
            }
            Graph g = current.edit();
            LinearLayer layer = findLayer(g, name);
            String skip = skipReason(layer, refGraph, g, options);
            if (skip != null) {
                fits.add(new LayerFit(name, layer == null ? 0 : layer.inFeatures(), layer == null ? 0
                        : layer.outFeatures(), 0, Double.NaN, Double.NaN, false, skip));
                continue;
            }
            Fit fit = fit(reference, current, g, layer, map, calibration, options);
            fits.add(fit.report);
            if (fit.report.rewritten()) {
                fit.layer.write(g, fit.matrix, fit.bias);
                current = g.toModel();
            }
        }
        return new Result(current, fits);
    }

    static LinearLayer findLayer(Graph g, String name) {
        for (LinearLayer l : LinearLayer.findAll(g)) {
            if (l.name().equals(name)) {
                return l;
            }
        }
        return null;
    }

    private static String skipReason(LinearLayer layer, Graph ref, Graph cand, Options o) {
        if (layer == null) {
            return "layer not found";
        }
        if (layer.isConv() && (layer.conv().group() != 1 || !layer.im2colSupported())) {
            return "grouped, depthwise or non-2-D convolution";
        }
        if (layer.inFeatures() + 1 > o.maxFeatures()) {
            return layer.inFeatures() + " input features exceed the limit of " + o.maxFeatures();
        }
        if (ref.producer(layer.output()).isEmpty() && !ref.isGraphInput(layer.output())) {
            return "the float model has no value '" + layer.output() + "'";
        }
        if (LinearLayer.usesOf(cand, layer.weight()) != 1) {
            return "weights shared with other nodes";
        }
        return null;
    }

    private record Fit(LinearLayer layer, float[] matrix, float[] bias, LayerFit report) {
    }

    /** The value whose float version is the target, and the candidate's other residual operand (or null). */
    private record Target(String referenceValue, String subtract) {
    }

    private static Target target(Graph g, LinearLayer layer, Options o) {
        if (!o.residualAware()) {
            return new Target(layer.output(), null);
        }
        List<NodeProto> cons = g.consumers(layer.output());
        if (cons.size() != 1 || g.isGraphOutput(layer.output())) {
            return new Target(layer.output(), null);
        }
        NodeProto add = cons.get(0);
        if (!add.getOpType().equals("Add") || add.getInputCount() != 2 || !add.getDomain().isEmpty()) {
            return new Target(layer.output(), null);
        }
        String other = add.getInput(0).equals(layer.output()) ? add.getInput(1) : add.getInput(0);
        if (other.equals(layer.output()) || g.isInitializer(other)) {
            return new Target(layer.output(), null);
        }
        // The other branch must be final already: computed before this layer in topological order.
        List<NodeProto> topo = g.topologicalOrder();
        int mine = topo.indexOf(layer.node());
        int theirs = g.producer(other).map(topo::indexOf).orElse(-1);
        if (theirs > mine) {
            return new Target(layer.output(), null);
        }
        return new Target(add.getOutput(0), other);
    }

    private static Fit fit(OnnxModel reference, OnnxModel current, Graph g, LinearLayer layer, ChannelMap map,
            Dataset data, Options o) {
        Target t = target(g, layer, o);
        List<String> candValues = new ArrayList<>(List.of(layer.input()));
        if (t.subtract != null) {
            candValues.add(t.subtract);
        }
        LayerRows rows = new LayerRows(layer, o.maxPositionsPerSample(), o.seed());
        int outputs = layer.outFeatures();
        SplitGram[] gram = new SplitGram[1];
        PairedCapture.run(reference, List.of(t.referenceValue), current, candValues, data, o.maxSamples(),
                (first, count, ref, cand) -> {
                    TensorData target = map.select(t.referenceValue, ref.get(t.referenceValue));
                    if (t.subtract != null) {
                        target = minus(target, cand.get(t.subtract));
                    }
                    TensorData input = cand.get(layer.input());
                    if (gram[0] == null) {
                        gram[0] = new SplitGram(rows.features(input.shape()) + 1, outputs);
                    }
                    int f = gram[0].features() - 1;
                    double[] x = new double[f + 1];
                    double[] y = new double[outputs];
                    rows.forEach(input, target, first, (sample, xr, yr) -> {
                        for (int i = 0; i < f; i++) {
                            x[i] = xr[i];
                        }
                        x[f] = 1;
                        for (int i = 0; i < outputs; i++) {
                            y[i] = yr[i];
                        }
                        gram[0].add(sample, x, y);
                    });
                });
        SplitGram gr = gram[0];
        int f = gr.features() - 1;
        if (f != layer.inFeatures()) {
            throw new IllegalStateException("layer " + layer.name() + " has " + layer.inFeatures()
                    + " input features but its captured input gives " + f);
        }
        // Current weights as a (features+1) x outputs matrix: the baseline and the prior of the ridge term.
        DMatrixRMaj before = new DMatrixRMaj(f + 1, outputs);
        float[] w = layer.weightMatrix(g);
        float[] bias = layer.biasVector(g);
        for (int o2 = 0; o2 < outputs; o2++) {
            for (int i = 0; i < f; i++) {
                before.set(i, o2, w[o2 * f + i]);
            }
            before.set(f, o2, bias[o2]);
        }
        boolean masked = o.preserveZeros() && MaskedRefit.hasZeros(w);
        SplitGram.Solver solver = masked ? (a, b, ridge) -> {
            float[] fittedBias = bias.clone();
            float[] fitted = MaskedRefit.solve(a, b, w, outputs, ridge, fittedBias);
            DMatrixRMaj s = new DMatrixRMaj(f + 1, outputs);
            for (int o2 = 0; o2 < outputs; o2++) {
                for (int i = 0; i < f; i++) {
                    s.set(i, o2, fitted[o2 * f + i]);
                }
                s.set(f, o2, fittedBias[o2]);
            }
            return s;
        } : (a, b, ridge) -> Gram.solve(a, b, ridge, before);
        SplitGram.Fit fit = gr.fit(before, solver, o.ridge());
        DMatrixRMaj a = gr.xtx();
        DMatrixRMaj b = gr.xty();
        double yy = Math.max(gr.yy(), 1e-30);
        double errBefore = residual(a, b, gr.yy(), before) / yy;
        DMatrixRMaj solved = fit.solution();
        double errAfter = solved == null ? errBefore : residual(a, b, gr.yy(), solved) / yy;
        // Rewrite only for a real gain: a layer that already matches is left byte-for-byte alone.
        boolean better = solved != null && Double.isFinite(errAfter) && errAfter < errBefore * 0.999
                && errBefore > 1e-9;
        float[] matrix = new float[outputs * f];
        float[] newBias = new float[outputs];
        if (better) {
            for (int o2 = 0; o2 < outputs; o2++) {
                for (int i = 0; i < f; i++) {
                    matrix[o2 * f + i] = (float) solved.get(i, o2);
                }
                newBias[o2] = (float) solved.get(f, o2);
            }
        }
        String note;
        if (better) {
            note = (t.subtract != null ? "residual target, " : "") + "ridge " + fit.ridge()
                    + (masked ? ", zeros kept" : "");
        } else if (solved == null) {
            note = "no refit lowered the error on held-out calibration samples";
        } else {
            note = "the refit did not lower the error";
        }
        LayerFit report = new LayerFit(layer.name(), f, outputs, gr.rows(), errBefore, better ? errAfter : errBefore,
                better, note);
        return new Fit(layer, matrix, newBias, report);
    }

    /** ||Y - X W||² from the normal-equation terms: tr(WᵀAW) - 2 tr(WᵀB) + ||Y||². */
    static double residual(DMatrixRMaj a, DMatrixRMaj b, double yy, DMatrixRMaj w) {
        DMatrixRMaj aw = new DMatrixRMaj(a.numRows, w.numCols);
        org.ejml.dense.row.CommonOps_DDRM.mult(a, w, aw);
        double quad = 0;
        double lin = 0;
        for (int i = 0; i < w.getNumElements(); i++) {
            quad += w.data[i] * aw.data[i];
            lin += w.data[i] * b.data[i];
        }
        return Math.max(0, quad - 2 * lin + yy);
    }

    private static TensorData minus(TensorData a, TensorData b) {
        float[] x = a.floats();
        float[] y = b.floats();
        if (x.length != y.length) {
            throw new IllegalStateException("residual target '" + a.name() + "' and branch '" + b.name()
                    + "' differ in size: " + x.length + " vs " + y.length);
        }
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] - y[i];
        }
        return TensorData.ofFloats(a.name(), a.shape(), out);
    }

    /** Per-layer fits by name, for reports. */
    public static Map<String, LayerFit> byLayer(Result r) {
        Map<String, LayerFit> out = new HashMap<>();
        r.layers().forEach(f -> out.put(f.layer(), f));
        return out;
    }
}
