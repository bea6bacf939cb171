package io.edgefleet.engine.recalib;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.decomposition.CholeskyDecomposition_F64;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * One-shot Hessian-aware pruning of linear layers in the Optimal Brain Compression / SparseGPT family (Frantar and
 * Alistarh 2022, 2023). For a layer {@code y = W x} the squared output error on calibration inputs has Hessian
 * {@code H = XᵀX} (plus damping). Columns are processed left to right; pruning weight {@code w_q} costs
 * {@code w_q² / [H⁻¹]_qq} and is compensated by moving the other not-yet-processed weights of the row along
 * {@code H⁻¹}, using the upper Cholesky factor of {@code H⁻¹} so each step is a rank-one update. The mask is chosen
 * per block of columns with that cost (unstructured) or per group of M inputs (N:M).
 *
 * <p>Layers are processed in topological order and each one's Hessian comes from the already pruned model
 * (sequential), so later layers compensate earlier errors. With {@code reconstruct}, each layer is first refit by
 * least squares to what the float model outputs there (dense ridge regression on the pruned model's inputs); since
 * that refit is the minimiser of the output error, pruning it with the same Hessian minimises the error to the float
 * model, not just to the layer's old weights. Afterwards the kept weights are refit exactly on their support where
 * the layer is small enough, and the bias is reset to its optimum for the final weights.
 */
public final class HessianPruner {
    private HessianPruner() {
    }

    /**
     * @param sparsity fraction of each layer's weights zeroed (unstructured)
     * @param keepN with {@code groupM > 0}: N:M, keep N of every M consecutive inputs per output
     * @param blockSize columns per mask-selection block (SparseGPT uses 128)
     * @param damp damping as a fraction of the mean diagonal of H
     * @param reconstruct refit to the float model's outputs before and after pruning
     * @param maxMaskedRefitFeatures exact per-row refit on the support only up to this many inputs (cost grows with
     *     the cube)
     * @param tokenMask name of a calibration input (e.g. {@code attention_mask}, shape [samples, tokens]) whose zero
     *     entries mark padding: those token rows are left out of every Hessian and reconstruction target, so
     *     calibration sequences of different real lengths can share one padded dataset without the padding's
     *     hidden states (which no real input produces) shaping the mask; null uses every row
     * @param allocation how the unstructured target is split over the layers; the overall sparsity (weighted by weight
     *     count) is the target either way
     * @param residualTarget with {@code reconstruct}: a layer whose output is added to a residual stream (its only
     *     consumer is an {@code Add} with another computed value R) is fit to {@code float output + float R - pruned
     *     R}, so it also absorbs what the layers before it already got wrong in the stream, instead of only matching
     *     its own float output
     * @param normalizationRefit with {@code reconstruct}: before the layers reading a layer normalization's output are
     *     pruned, and for every normalization after the last pruned layer, refit its per-channel scale and shift to
     *     the float model's output there ({@link NormalizationRefit}); reported in {@link Result#normalizations}
     * @param maskSwaps with {@code reconstruct}, unstructured, on the layers that get the exact masked refit: at most
     *     this many swaps per output row that revisit SparseGPT's mask ({@link MaskSwapSearch}), each one exactly
     *     lowering the row's least-squares error at the same zero count; 0 keeps SparseGPT's mask
     * @param activationAware with {@code reconstruct}, unstructured: a layer whose output goes straight into a ReLU or
     *     GELU is pruned with its error counted after the activation, one Hessian per output row and exact
     *     elimination ({@link ActivationAwarePruning}) instead of SparseGPT on the shared Hessian
     */
    public record Options(double sparsity, int keepN, int groupM, int blockSize, double damp, int maxSamples,
            boolean reconstruct, int maxMaskedRefitFeatures, double ridge, String tokenMask,
            SparsityAllocation.Spec allocation, boolean residualTarget, boolean normalizationRefit, int maskSwaps,
            boolean activationAware) {
        public Options(double sparsity, int keepN, int groupM, int blockSize, double damp, int maxSamples,
                boolean reconstruct, int maxMaskedRefitFeatures, double ridge) {
            this(sparsity, keepN, groupM, blockSize, damp, maxSamples, reconstruct, maxMaskedRefitFeatures, ridge,
                    null, SparsityAllocation.Spec.UNIFORM, false, false, 0, false);
        }

        public Options {
            if (groupM == 0 && !(sparsity > 0 && sparsity < 1)) {
                throw new IllegalArgumentException("sparsity must be in (0, 1), got " + sparsity);
            }
            if (groupM < 0 || (groupM > 0 && (keepN < 1 || keepN >= groupM))) {
                throw new IllegalArgumentException("N:M needs 0 < N < M, got " + keepN + ":" + groupM);
            }
            if (blockSize < 1 || damp < 0) {
                throw new IllegalArgumentException("blockSize must be >= 1 and damp >= 0");
            }
            if (allocation == null) {
                throw new IllegalArgumentException("allocation is required (SparsityAllocation.Spec.UNIFORM)");
            }
            if (groupM > 0 && allocation.mode() != SparsityAllocation.Mode.UNIFORM) {
                throw new IllegalArgumentException("N:M patterns fix every layer's ratio; use a uniform allocation");
            }
            if (maskSwaps < 0 || (maskSwaps > 0 && groupM > 0)) {
                throw new IllegalArgumentException("maskSwaps must be >= 0, and 0 with N:M (a swap breaks the groups)");
            }
        }

        public static Options unstructured(double sparsity) {
            return new Options(sparsity, 0, 0, 128, 0.01, 256, true, 256, 1e-3);
        }

        public static Options nm(int n, int m) {
            return new Options(1.0 - (double) n / m, n, m, 128, 0.01, 256, true, 256, 1e-3);
        }

        public Options withReconstruct(boolean on) {
            return new Options(sparsity, keepN, groupM, blockSize, damp, maxSamples, on, maxMaskedRefitFeatures, ridge,
                    tokenMask, allocation, residualTarget, normalizationRefit, maskSwaps, activationAware);
        }

        public Options withMaxSamples(int n) {
            return new Options(sparsity, keepN, groupM, blockSize, damp, n, reconstruct, maxMaskedRefitFeatures, ridge,
                    tokenMask, allocation, residualTarget, normalizationRefit, maskSwaps, activationAware);
        }

        public Options withMaxMaskedRefitFeatures(int n) {
            return new Options(sparsity, keepN, groupM, blockSize, damp, maxSamples, reconstruct, n, ridge, tokenMask,
                    allocation, residualTarget, normalizationRefit, maskSwaps, activationAware);
        }

        /** @param input see {@link #tokenMask()}; null to use every row */
        public Options withTokenMask(String input) {
            return new Options(sparsity, keepN, groupM, blockSize, damp, maxSamples, reconstruct,
                    maxMaskedRefitFeatures, ridge, input, allocation, residualTarget, normalizationRefit, maskSwaps,
                    activationAware);
        }

        public Options withAllocation(SparsityAllocation.Spec a) {
            return new Options(sparsity, keepN, groupM, blockSize, damp, maxSamples, reconstruct,
                    maxMaskedRefitFeatures, ridge, tokenMask, a, residualTarget, normalizationRefit, maskSwaps,
                    activationAware);
        }

        public Options withResidualTarget(boolean on) {
            return new Options(sparsity, keepN, groupM, blockSize, damp, maxSamples, reconstruct,
                    maxMaskedRefitFeatures, ridge, tokenMask, allocation, on, normalizationRefit, maskSwaps,
                    activationAware);
        }

        public Options withMaskSwaps(int rounds) {
            return new Options(sparsity, keepN, groupM, blockSize, damp, maxSamples, reconstruct,
                    maxMaskedRefitFeatures, ridge, tokenMask, allocation, residualTarget, normalizationRefit, rounds,
                    activationAware);
        }

        public Options withNormalizationRefit(boolean on) {
            return new Options(sparsity, keepN, groupM, blockSize, damp, maxSamples, reconstruct,
                    maxMaskedRefitFeatures, ridge, tokenMask, allocation, residualTarget, on, maskSwaps,
                    activationAware);
        }

        public Options withActivationAware(boolean on) {
            return new Options(sparsity, keepN, groupM, blockSize, damp, maxSamples, reconstruct,
                    maxMaskedRefitFeatures, ridge, tokenMask, allocation, residualTarget, normalizationRefit, maskSwaps,
                    on);
        }
    }

    /**
     * @param error relative output error of the layer after pruning, ||Y - Ŷ||² / ||Y||², on the calibration rows
     *     (Y: the float model's output with reconstruct, the layer's own unpruned output otherwise)
     */
    public record LayerReport(String layer, int outputs, int inputs, long rows, double sparsity, double error,
            String note) {
    }

    /**
     * @param normalizations the normalization refits, in the order they were made (empty unless asked for)
     * @param allocation how the zeros were split over the layers and what that cost; empty when uniform
     */
    public record Result(OnnxModel model, List<LayerReport> layers, List<NormalizationRefit.Outcome> normalizations,
            String allocation) {
        public double sparsity() {
            long w = 0;
            double z = 0;
            for (LayerReport l : layers) {
                w += (long) l.outputs() * l.inputs();
                z += l.sparsity() * l.outputs() * l.inputs();
            }
            return w == 0 ? 0 : z / w;
        }
    }

    /**
     * @param reference the float model (targets for reconstruction; may equal {@code model})
     * @param select which layers to prune (null: every Gemm/MatMul; convolutions are left alone)
     */
    public static Result prune(OnnxModel reference, OnnxModel model, Dataset data, Options o,
            Predicate<LinearLayer> select) {
        Dataset calibration = o.tokenMask() == null ? data : byLength(data.head(o.maxSamples()), o.tokenMask());
        Predicate<LinearLayer> which = select != null ? select : l -> !l.isConv();
        List<String> names = new ArrayList<>();
        for (LinearLayer l : LinearLayer.findAll(model)) {
            if (which.test(l)) {
                names.add(l.name());
            }
        }
        Allocation alloc = o.groupM() > 0 ? null : allocate(reference, model, names, calibration, o);
        java.util.Map<String, Long> zeroTargets = alloc == null ? null : alloc.zeros();
        OnnxModel current = model;
        List<LayerReport> reports = new ArrayList<>();
        Set<String> normsDone = new HashSet<>();
        List<NormalizationRefit.Outcome> norms = new ArrayList<>();
        Set<String> prunedOutputs = new HashSet<>();
        int i = 0;
        while (i < names.size()) {
            // A wave: consecutive layers reading the same input (attention Q/K/V) share one capture and one XᵀX.
            Graph g = current.edit();
            List<LinearLayer> wave = new ArrayList<>();
            String input = null;
            while (i < names.size()) {
                LinearLayer layer = LeastSquaresReconstruction.findLayer(g, names.get(i));
                String problem = problem(g, layer, o);
                if (problem != null) {
                    if (wave.isEmpty()) {
                        reports.add(new LayerReport(names.get(i), layer == null ? 0 : layer.outFeatures(),
                                layer == null ? 0 : layer.inFeatures(), 0, 0, Double.NaN, problem));
                        i++;
                        continue;
                    }
                    break;
                }
                if (input != null && !layer.input().equals(input)) {
                    break;
                }
                input = layer.input();
                wave.add(layer);
                i++;
            }
            if (wave.isEmpty()) {
                continue;
            }
            if (o.reconstruct() && o.normalizationRefit()) {
                Optional<NormalizationRefit.Site> site = NormalizationRefit.producing(g, input);
                if (site.isPresent() && normsDone.add(site.get().output())) {
                    norms.add(NormalizationRefit.refit(reference, current, g, site.get(), calibration,
                            o.maxSamples(), o.tokenMask()));
                    current = g.toModel();
                }
            }
            for (LinearLayer l : wave) {
                prunedOutputs.add(l.output());
            }
            Optional<ActivationAwarePruning.Activation> act = activationOf(g, wave, o);
            if (act.isPresent()) {
                LinearLayer layer = wave.get(0);
                long zeros = zeroTargets != null ? zeroTargets.get(layer.name())
                        : Math.round(o.sparsity() * layer.outFeatures() * (long) layer.inFeatures());
                ActivationAwarePruning.Prepared prep = ActivationAwarePruning.prepare(act.get(),
                        activationRows(reference, current, layer, calibration, o), o.damp());
                reports.add(withNote(ActivationAwarePruning.apply(g, layer, prep, zeros),
                        alloc == null ? null : alloc.notes().get(layer.name())));
                current = g.toModel();
                continue;
            }
            String skipped = activationSkipped(g, wave, o);
            WaveStats st = stats(reference, current, g, wave, calibration, o);
            int f = wave.get(0).inFeatures();
            int col = 0;
            for (LinearLayer layer : wave) {
                int outs = layer.outFeatures();
                SplitGram lg = st.gram.targets(col, col + outs);
                col += outs;
                LayerReport rep = pruneLayer(g, layer, lg, f, o, zeroTargets == null ? -1
                        : zeroTargets.get(layer.name()), denseRefit(g, layer, lg, f, o));
                reports.add(withNote(withNote(rep, skipped), alloc == null ? null : alloc.notes().get(layer.name())));
            }
            current = g.toModel();
        }
        if (o.reconstruct() && o.normalizationRefit()) {
            current = refitRemainingNormalizations(reference, current, calibration, o, prunedOutputs, normsDone,
                    norms);
        }
        return new Result(current, reports, norms, alloc == null ? "" : alloc.summary());
    }

    /** The report with {@code more} appended to its note (unchanged when null). */
    private static LayerReport withNote(LayerReport r, String more) {
        return more == null ? r : new LayerReport(r.layer(), r.outputs(), r.inputs(), r.rows(), r.sparsity(),
                r.error(), r.note().isEmpty() ? more : r.note() + "; " + more);
    }

    /** The activation a one-layer wave's output goes into, when {@link Options#activationAware} applies to it. */
    private static Optional<ActivationAwarePruning.Activation> activationOf(Graph g, List<LinearLayer> wave,
            Options o) {
        if (!o.activationAware() || !o.reconstruct() || o.groupM() > 0 || wave.size() != 1 || wave.get(0).isConv()
                || !ActivationAwarePruning.fits(wave.get(0).outFeatures(), wave.get(0).inFeatures())) {
            return Optional.empty();
        }
        return ActivationAwarePruning.following(g, wave.get(0));
    }

    /** Why an activation-aware layer took the SparseGPT path instead (too large), or null. */
    private static String activationSkipped(Graph g, List<LinearLayer> wave, Options o) {
        if (!o.activationAware() || wave.size() != 1 || wave.get(0).isConv()
                || ActivationAwarePruning.fits(wave.get(0).outFeatures(), wave.get(0).inFeatures())
                || ActivationAwarePruning.following(g, wave.get(0)).isEmpty()) {
            return null;
        }
        return "activation-aware skipped: one Hessian per output row would need more than "
                + ActivationAwarePruning.MAX_HESSIAN_FLOATS * Float.BYTES / (1L << 30) + " GiB";
    }

    /**
     * The layer's regression rows for {@link ActivationAwarePruning}: the current model's inputs with an intercept
     * column, and the reference model's outputs there (padding left out), held in memory.
     */
    private static ActivationAwarePruning.Rows activationRows(OnnxModel reference, OnnxModel current,
            LinearLayer layer, Dataset data, Options o) {
        LayerRows rows = new LayerRows(layer, 64, 11);
        TokenFilter keep = TokenFilter.of(data, o);
        int f = layer.inFeatures();
        int outs = layer.outFeatures();
        float[][] buf = {new float[1024 * (f + 1)], new float[1024 * outs]};
        int[] n = {0};
        PairedCapture.run(reference, List.of(layer.output()), current, List.of(layer.input()), data,
                o.maxSamples(), o.tokenMask(), (first, count, ref, c) -> {
                    TensorData in = c.get(layer.input());
                    rows.forEach(in, ref.get(layer.output()), first, keep.wrap(layer, in, (sample, x, y) -> {
                        if ((n[0] + 1) * (f + 1) > buf[0].length) {
                            buf[0] = Arrays.copyOf(buf[0], buf[0].length * 2);
                            buf[1] = Arrays.copyOf(buf[1], buf[1].length * 2);
                        }
                        System.arraycopy(x, 0, buf[0], n[0] * (f + 1), f);
                        buf[0][n[0] * (f + 1) + f] = 1;
                        System.arraycopy(y, 0, buf[1], n[0] * outs, outs);
                        n[0]++;
                    }));
                });
        int tokens = n[0];
        float[] zT = new float[outs * tokens];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < outs; r++) {
                zT[r * tokens + t] = buf[1][t * outs + r];
            }
        }
        return new ActivationAwarePruning.Rows(Arrays.copyOf(buf[0], tokens * (f + 1)), zT, tokens, f, outs);
    }

    /** The normalizations downstream of the pruned layers that no wave read directly (e.g. the model's last). */
    private static OnnxModel refitRemainingNormalizations(OnnxModel reference, OnnxModel model, Dataset calibration,
            Options o, Set<String> prunedOutputs, Set<String> done, List<NormalizationRefit.Outcome> out) {
        Graph g = model.edit();
        Set<String> downstream = new HashSet<>(prunedOutputs);
        OnnxModel current = model;
        for (NodeProto n : g.topologicalOrder()) {
            if (n.getInputList().stream().noneMatch(downstream::contains)) {
                continue;
            }
            downstream.addAll(n.getOutputList());
            for (String value : n.getOutputList()) {
                Optional<NormalizationRefit.Site> site = NormalizationRefit.producing(g, value);
                if (site.isPresent() && done.add(value)) {
                    out.add(NormalizationRefit.refit(reference, current, g, site.get(), calibration, o.maxSamples(),
                            o.tokenMask()));
                    current = g.toModel();
                }
            }
        }
        return current;
    }

    /**
     * The dense least-squares refit of a layer to its targets, which pruning then starts from; null when not
     * reconstructing or when no refit beats the current weights on the held-out samples.
     */
    private static DMatrixRMaj denseRefit(Graph g, LinearLayer layer, SplitGram lg, int f, Options o) {
        if (!o.reconstruct()) {
            return null;
        }
        DMatrixRMaj current0 = asSolution(layer.weightMatrix(g), layer.biasVector(g), layer.outFeatures(), f);
        return lg.fit(current0, (aa, bb, r) -> Gram.solve(aa, bb, r, current0), o.ridge()).solution();
    }

    /**
     * Prunes one layer of a wave from its share {@code lg} of the wave's statistics and writes it into {@code g}.
     *
     * @param zeros weights to zero (unstructured), negative for the uniform count
     * @param dense the layer's {@link #denseRefit}
     */
    private static LayerReport pruneLayer(Graph g, LinearLayer layer, SplitGram lg, int f, Options o, long zeros,
            DMatrixRMaj dense) {
        int outs = layer.outFeatures();
        DMatrixRMaj a = lg.xtx();
        DMatrixRMaj b = lg.xty();
        long n = lg.rows();
        DMatrixRMaj h = CommonOps_DDRM.extract(a, 0, f, 0, f);
        if (o.reconstruct()) {
            center(h, a, f, n); // the intercept is refit: only the centred spread matters
        }
        boolean canBias = layer.bias() != null || o.reconstruct();
        float[] w = layer.weightMatrix(g);
        float[] bias = layer.biasVector(g);
        double[] start = new double[outs * f];
        String note = "";
        for (int r = 0; r < outs; r++) {
            for (int c = 0; c < f; c++) {
                start[r * f + c] = dense != null ? dense.get(c, r) : w[r * f + c];
            }
        }
        double[] pruned = sparseGpt(start, outs, f, h, o, zeros);
        String swapNote = "";
        float[] out = new float[pruned.length];
        for (int c = 0; c < out.length; c++) {
            out[c] = (float) pruned[c];
        }
        if (canBias) {
            bias = optimalBias(a, b, out, outs, f, n);
            note = o.reconstruct() ? "bias refit" : "bias re-centred";
        }
        if (o.reconstruct() && f + 1 <= o.maxMaskedRefitFeatures()) {
            DMatrixRMaj baseline = asSolution(out, bias, outs, f);
            float[] prunedW = out;
            float[] prunedB = bias;
            if (o.maskSwaps() > 0) {
                SwappedMasks sw = swapMasks(lg, out, outs, f, o);
                prunedW = sw.weights();
                prunedB = optimalBias(a, b, prunedW, outs, f, n);
                swapNote = sw.note();
            }
            float[] fitW = prunedW;
            float[] fitB = prunedB;
            SplitGram.Fit refit = lg.fit(baseline, (aa, bb, r) -> {
                float[] fb = fitB.clone();
                float[] fw = MaskedRefit.solve(aa, bb, fitW, outs, r, fb);
                return asSolution(fw, fb, outs, f);
            }, o.ridge());
            if (refit.solution() != null) {
                DMatrixRMaj sol = refit.solution();
                out = new float[outs * f];
                bias = new float[outs];
                for (int r = 0; r < outs; r++) {
                    for (int c = 0; c < f; c++) {
                        out[r * f + c] = prunedW[r * f + c] == 0f ? 0f : (float) sol.get(c, r);
                    }
                    bias[r] = (float) sol.get(f, r);
                }
                note = "masked refit, ridge " + refit.ridge();
            } else if (!swapNote.isEmpty()) {
                swapNote += " (not kept: no refit on them beat SparseGPT's weights on held-out samples)";
            }
        }
        note += swapNote;
        if (o.reconstruct() && dense == null) {
            note += "; dense refit skipped (no gain on held-out samples)";
        }
        double err = error(a, b, lg.yy(), out, bias, outs, f) / Math.max(lg.yy(), 1e-30);
        LinearLayer now = LeastSquaresReconstruction.findLayer(g, layer.name());
        now.write(g, out, canBias ? bias : null);
        return new LayerReport(layer.name(), outs, f, n, zeros(out) / (double) out.length, err, note);
    }

    /** Masks improved by {@link MaskSwapSearch}, each row refit on its new support, and what the search did. */
    private record SwappedMasks(float[] weights, String note) {
    }

    /**
     * Searches better masks at the same zero counts on the training rows only, so that the held-out rows still judge
     * the masked refit's ridge fairly: the refit shrinks toward these weights.
     */
    private static SwappedMasks swapMasks(SplitGram lg, float[] pruned, int outs, int f, Options o) {
        long t0 = System.nanoTime();
        SplitGram.Part t = lg.training();
        DMatrixRMaj h = CommonOps_DDRM.extract(t.xtx(), 0, f, 0, f);
        center(h, t.xtx(), f, t.rows());
        MaskSwapSearch.Outcome s = MaskSwapSearch.search(h, centred(t.xtx(), t.xty(), f, t.rows()),
                o.ridge() * CommonOps_DDRM.trace(h) / f, pruned, outs, o.maskSwaps());
        double yyc = centredYy(t.xty(), t.yy(), f, t.rows());
        double yy = Math.max(t.yy(), 1e-30);
        return new SwappedMasks(s.weights(), String.format(Locale.ROOT, "; mask swaps %d (%.2f per row), "
                + "training-row error refit on the masks %.5f -> %.5f, %.1f s", s.swaps(), s.swaps() / (double) outs,
                (yyc + s.before()) / yy, (yyc + s.after()) / yy, (System.nanoTime() - t0) / 1e9));
    }

    private static String problem(Graph g, LinearLayer layer, Options o) {
        if (layer == null) {
            return "layer not found";
        }
        if (LinearLayer.usesOf(g, layer.weight()) != 1) {
            return "weights shared with other nodes";
        }
        if (layer.isConv() && (layer.conv().group() != 1 || !layer.im2colSupported())) {
            return "grouped, depthwise or non-2-D convolution";
        }
        if (o.groupM() > 0 && layer.inFeatures() % o.groupM() != 0) {
            return layer.inFeatures() + " inputs are not a multiple of " + o.groupM();
        }
        return null;
    }

    private record WaveStats(SplitGram gram) {
    }

    /** Weights and bias as the (features+1) x outputs solution layout of the normal equations. */
    private static DMatrixRMaj asSolution(float[] w, float[] bias, int outs, int f) {
        DMatrixRMaj m = new DMatrixRMaj(f + 1, outs);
        for (int r = 0; r < outs; r++) {
            for (int c = 0; c < f; c++) {
                m.set(c, r, w[r * f + c]);
            }
            m.set(f, r, bias[r]);
        }
        return m;
    }

    /**
     * Gram matrices of {@code [X 1]} (X: the current model's input of the wave) with the targets of every layer side
     * by side: the float model's outputs when reconstructing, else the layers' current (unpruned) outputs.
     */
    private static WaveStats stats(OnnxModel reference, OnnxModel current, Graph g, List<LinearLayer> wave,
            Dataset data, Options o) {
        LinearLayer first = wave.get(0);
        LayerRows rows = new LayerRows(first, 64, 11);
        int total = 0;
        List<String> outputs = new ArrayList<>();
        for (LinearLayer l : wave) {
            total += l.outFeatures();
            outputs.add(l.output());
        }
        int targets = total;
        SplitGram[] gram = new SplitGram[1];
        List<String> cand = new ArrayList<>(List.of(first.input()));
        if (!o.reconstruct()) {
            cand.addAll(outputs);
        }
        List<String> refValues = new ArrayList<>(o.reconstruct() ? outputs : List.of());
        List<String> residuals = new ArrayList<>();
        for (LinearLayer l : wave) {
            String r = o.reconstruct() && o.residualTarget() ? residualInput(g, l) : null;
            residuals.add(r);
            if (r != null) {
                refValues.add(r);
                cand.add(r);
            }
        }
        boolean anyResidual = residuals.stream().anyMatch(java.util.Objects::nonNull);
        TokenFilter keep = TokenFilter.of(data, o);
        PairedCapture.run(o.reconstruct() ? reference : null, refValues, current, cand,
                data, o.maxSamples(), o.tokenMask(), (firstSample, n, ref, c) -> {
                    TensorData in = c.get(first.input());
                    java.util.Map<String, TensorData> source = o.reconstruct() ? ref : c;
                    if (anyResidual) {
                        source = new java.util.HashMap<>(ref);
                        for (int k = 0; k < wave.size(); k++) {
                            String r = residuals.get(k);
                            if (r != null) {
                                TensorData fo = ref.get(outputs.get(k));
                                float[] y = fo.floats().clone();
                                float[] fr = ref.get(r).floats();
                                float[] pr = c.get(r).floats();
                                for (int i = 0; i < y.length; i++) {
                                    y[i] += fr[i] - pr[i];
                                }
                                source.put(outputs.get(k), TensorData.ofFloats(outputs.get(k), fo.shape(), y));
                            }
                        }
                    }
                    TensorData target = concatLast(outputs, source);
                    if (gram[0] == null) {
                        gram[0] = new SplitGram(rows.features(in.shape()) + 1, targets);
                    }
                    int f = gram[0].features() - 1;
                    double[] x = new double[f + 1];
                    double[] y = new double[targets];
                    rows.forEach(in, target, firstSample, keep.wrap(first, in, (sample, xr, yr) -> {
                        for (int i = 0; i < f; i++) {
                            x[i] = xr[i];
                        }
                        x[f] = 1;
                        for (int i = 0; i < targets; i++) {
                            y[i] = yr[i];
                        }
                        gram[0].add(sample, x, y);
                    }));
                });
        if (gram[0].features() - 1 != first.inFeatures()) {
            throw new IllegalStateException("layer " + first.name() + ": captured input has " + (gram[0].features() - 1)
                    + " features, the weights " + first.inFeatures());
        }
        return new WaveStats(gram[0]);
    }

    /**
     * The samples ordered by real length (count of non-zero mask entries), shortest first and stable, so the batches
     * that captures cut to their longest sequence carry little padding. Every fifth sample is still held out for
     * ridge selection ({@link SplitGram}), now evenly across lengths.
     */
    static Dataset byLength(Dataset data, String tokenMask) {
        TensorData mask = data.input(tokenMask);
        int tokens = (int) mask.dim(mask.rank() - 1);
        long[] m = mask.longs();
        Integer[] order = new Integer[data.size()];
        int[] length = new int[data.size()];
        for (int s = 0; s < order.length; s++) {
            order[s] = s;
            for (int t = 0; t < tokens; t++) {
                length[s] += m[s * tokens + t] != 0 ? 1 : 0;
            }
        }
        Arrays.sort(order, (a, b) -> Integer.compare(length[a], length[b]));
        return data.select(Arrays.stream(order).mapToInt(Integer::intValue).toArray(), "by length");
    }

    /**
     * Leaves out the rows of padding tokens (see {@link Options#tokenMask()}). Rows of a [batch, tokens, features]
     * input arrive sample by sample in token order, so counting rows per sample gives the token index; a batch may be
     * cut to its longest real sequence ({@link PairedCapture#run}), so a sample has at most the mask's token count.
     */
    private record TokenFilter(long[] mask, int tokens, String name) {
        static TokenFilter of(Dataset data, Options o) {
            if (o.tokenMask() == null) {
                return new TokenFilter(null, 0, null);
            }
            long[] m = data.input(o.tokenMask()).longs();
            return new TokenFilter(m, m.length / Math.max(1, data.size()), o.tokenMask());
        }

        LayerRows.Sink wrap(LinearLayer layer, TensorData in, LayerRows.Sink sink) {
            if (mask == null) {
                return sink;
            }
            if (layer.isConv() || in.rank() != 3 || in.dim(1) > tokens) {
                throw new IllegalStateException("layer " + layer.name() + ": token mask '" + name + "' has " + tokens
                        + " tokens per sample, the layer input has shape " + Arrays.toString(in.shape()));
            }
            int[] at = {-1, -1}; // sample of the previous row, its token index
            return (sample, x, y) -> {
                at[1] = sample == at[0] ? at[1] + 1 : 0;
                at[0] = sample;
                if (mask[sample * tokens + at[1]] != 0) {
                    sink.row(sample, x, y);
                }
            };
        }
    }

    /**
     * Zeros per layer: {@code round(sparsity · size)} each when uniform; otherwise the allocation's ratios with
     * integer counts adding up to exactly the overall target. Outlier scores use the input feature norms of the model
     * being pruned, one capture of every selected layer's input; measured damage see {@link #measured}.
     */
    private static Allocation allocate(OnnxModel reference, OnnxModel model, List<String> names, Dataset data,
            Options o) {
        Graph g = model.edit();
        List<LinearLayer> layers = new ArrayList<>();
        for (String name : names) {
            LinearLayer l = LeastSquaresReconstruction.findLayer(g, name);
            if (problem(g, l, o) == null) {
                layers.add(l);
            }
        }
        if (o.allocation().mode() == SparsityAllocation.Mode.MEASURED) {
            return measured(reference, model, layers, data, o);
        }
        java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
        if (o.allocation().mode() == SparsityAllocation.Mode.UNIFORM) {
            for (LinearLayer l : layers) {
                out.put(l.name(), Math.round(o.sparsity() * l.outFeatures() * (long) l.inFeatures()));
            }
            return new Allocation(out, Map.of(), "");
        }
        long[] sizes = new long[layers.size()];
        if (o.allocation().mode() == SparsityAllocation.Mode.RELATIVE) {
            String[] layerNames = new String[layers.size()];
            for (int i = 0; i < layers.size(); i++) {
                layerNames[i] = layers.get(i).name();
                sizes[i] = (long) layers.get(i).outFeatures() * layers.get(i).inFeatures();
            }
            long[] zeros = SparsityAllocation.zeroCounts(o.sparsity(), sizes, SparsityAllocation.relative(o.sparsity(),
                    sizes, layerNames, o.allocation().offsets()));
            for (int i = 0; i < layers.size(); i++) {
                out.put(layerNames[i], zeros[i]);
            }
            return new Allocation(out, Map.of(), "");
        }
        java.util.Map<String, double[]> norms = inputNorms(model, layers, data, o);
        double[] outliers = new double[layers.size()];
        for (int i = 0; i < layers.size(); i++) {
            LinearLayer l = layers.get(i);
            sizes[i] = (long) l.outFeatures() * l.inFeatures();
            outliers[i] = SparsityAllocation.outlierFraction(l.weightMatrix(g), l.outFeatures(), l.inFeatures(),
                    norms.get(l.input()), o.allocation().outlierFactor());
        }
        double[] ratios = SparsityAllocation.outlierWeighted(o.sparsity(), sizes, outliers, o.allocation().spread());
        long[] zeros = SparsityAllocation.zeroCounts(o.sparsity(), sizes, ratios);
        for (int i = 0; i < layers.size(); i++) {
            out.put(layers.get(i).name(), zeros[i]);
        }
        return new Allocation(out, Map.of(), "");
    }

    /**
     * @param zeros weights to zero per layer
     * @param notes per layer, why it got its share (for the layer reports)
     * @param summary what the allocation did and cost, for the job's notes; empty when there is nothing to say
     */
    private record Allocation(Map<String, Long> zeros, Map<String, String> notes, String summary) {
    }

    /**
     * Measured allocation: every layer pruned alone at each probe ratio exactly as {@link #prune} prunes it (SparseGPT
     * on the Hessian of its inputs in the unpruned model, the same reconstruction, token mask and refits), the damage
     * to the model's outputs measured against the reference on a few calibration samples spread over the set; then
     * {@link SparsityAllocation#leastDamage} picks the zero counts. One capture per group of layers reading the same
     * input (attention Q/K/V share one), one dense refit per layer, one model run per layer and ratio.
     */
    private static Allocation measured(OnnxModel reference, OnnxModel model, List<LinearLayer> layers, Dataset data,
            Options o) {
        long t0 = System.nanoTime();
        SparsityAllocation.Spec spec = o.allocation();
        double[] band = spec.band(o.sparsity());
        double[] probes = spec.probeRatios(o.sparsity());
        int pool = Math.min(o.maxSamples(), data.size());
        int count = Math.min(pool, spec.samples());
        int[] rows = new int[count];
        for (int j = 0; j < count; j++) {
            rows[j] = (int) ((long) j * pool / count);
        }
        OutputDamage damage = new OutputDamage(reference, data.select(rows, "damage"), o.tokenMask());
        Graph g = model.edit();
        Map<String, List<LinearLayer>> waves = new LinkedHashMap<>();
        for (LinearLayer l : layers) {
            waves.computeIfAbsent(l.input(), k -> new ArrayList<>()).add(l);
        }
        long[] sizes = new long[layers.size()];
        double[][] curves = new double[layers.size()][];
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            index.put(layers.get(i).name(), i);
            sizes[i] = (long) layers.get(i).outFeatures() * layers.get(i).inFeatures();
        }
        for (List<LinearLayer> wave : waves.values()) {
            // Activation-aware layers are probed with SparseGPT too: their weighted products would cost the probes
            // as much as the pass itself, and SparseGPT usually damages them more, which errs toward sparing them.
            WaveStats st = stats(reference, model, g, wave, data, o);
            int f = wave.get(0).inFeatures();
            int col = 0;
            for (LinearLayer layer : wave) {
                SplitGram lg = st.gram.targets(col, col + layer.outFeatures());
                col += layer.outFeatures();
                int i = index.get(layer.name());
                DMatrixRMaj dense = denseRefit(g, layer, lg, f, o);
                curves[i] = new double[probes.length];
                for (int k = 0; k < probes.length; k++) {
                    Graph alone = model.edit();
                    pruneLayer(alone, LeastSquaresReconstruction.findLayer(alone, layer.name()), lg, f, o,
                            Math.round(probes[k] * sizes[i]), dense);
                    curves[i][k] = damage.of(alone.toModel());
                }
            }
        }
        long[] zeros = SparsityAllocation.measured(o.sparsity(), sizes, probes, curves, band[0], band[1]);
        Map<String, Long> out = new LinkedHashMap<>();
        Map<String, String> notes = new HashMap<>();
        StringBuilder at = new StringBuilder();
        for (double p : probes) {
            at.append(at.length() == 0 ? "" : "/").append(String.format(Locale.ROOT, "%.2f", p));
        }
        for (int i = 0; i < layers.size(); i++) {
            out.put(layers.get(i).name(), zeros[i]);
            StringBuilder d = new StringBuilder();
            for (double v : curves[i]) {
                d.append(d.length() == 0 ? "" : "/").append(String.format(Locale.ROOT, "%.3g", v));
            }
            notes.put(layers.get(i).name(), String.format(Locale.ROOT, "measured allocation %.3f (output damage "
                    + "pruned alone at %s: %s)", (double) zeros[i] / sizes[i], at, d));
        }
        String summary = String.format(Locale.ROOT, "measured allocation: %d layers each pruned alone at ratios %s "
                + "(%d model runs on %d calibration samples, %d captures), ratios kept within %.2f-%.2f, %.1f s",
                layers.size(), at, layers.size() * probes.length, count, waves.size(), band[0], band[1],
                (System.nanoTime() - t0) / 1e9);
        return new Allocation(out, notes, summary);
    }

    /** L2 norm of every input feature of each distinct layer input, over the (unmasked) calibration rows. */
    private static java.util.Map<String, double[]> inputNorms(OnnxModel model, List<LinearLayer> layers, Dataset data,
            Options o) {
        java.util.Map<String, LinearLayer> byInput = new java.util.LinkedHashMap<>();
        for (LinearLayer l : layers) {
            byInput.putIfAbsent(l.input(), l);
        }
        java.util.Map<String, double[]> sq = new java.util.HashMap<>();
        TokenFilter keep = TokenFilter.of(data, o);
        PairedCapture.run(null, List.of(), model, byInput.keySet(), data, o.maxSamples(), o.tokenMask(),
                (first, n, ref, c) -> {
            for (var e : byInput.entrySet()) {
                TensorData in = c.get(e.getKey());
                LayerRows rows = new LayerRows(e.getValue(), 64, 11);
                double[] acc = sq.computeIfAbsent(e.getKey(), k -> new double[rows.features(in.shape())]);
                rows.forEach(in, null, first, keep.wrap(e.getValue(), in, (sample, x, y) -> {
                    for (int i = 0; i < acc.length; i++) {
                        acc[i] += (double) x[i] * x[i];
                    }
                }));
            }
        });
        java.util.Map<String, double[]> norms = new java.util.HashMap<>();
        sq.forEach((k, v) -> norms.put(k, Arrays.stream(v).map(Math::sqrt).toArray()));
        return norms;
    }

    /**
     * The residual stream a layer's output joins: the other input of the {@code Add} that is the output's only
     * consumer, when that input is computed by a node other than a Constant; else null.
     */
    static String residualInput(Graph g, LinearLayer layer) {
        List<NodeProto> cons = g.consumers(layer.output());
        if (cons.size() != 1 || !cons.get(0).getOpType().equals("Add") || !cons.get(0).getDomain().isEmpty()
                || g.isGraphOutput(layer.output())) {
            return null;
        }
        NodeProto add = cons.get(0);
        String other = add.getInput(0).equals(layer.output()) ? add.getInput(1) : add.getInput(0);
        if (other.equals(layer.output()) || g.isInitializer(other)
                || g.producer(other).map(n -> n.getOpType().equals("Constant")).orElse(true)) {
            return null;
        }
        return other;
    }

    /** The named tensors side by side along their last axis (one layer's output when there is one). */
    private static TensorData concatLast(List<String> names, java.util.Map<String, TensorData> values) {
        if (names.size() == 1) {
            return values.get(names.get(0));
        }
        List<float[]> parts = new ArrayList<>();
        int[] widths = new int[names.size()];
        long[] shape = null;
        int width = 0;
        for (int k = 0; k < names.size(); k++) {
            TensorData t = values.get(names.get(k));
            parts.add(t.floats());
            widths[k] = (int) t.dim(t.rank() - 1);
            width += widths[k];
            shape = t.shape();
        }
        int rows = parts.get(0).length / widths[0];
        float[] out = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            int off = 0;
            for (int k = 0; k < parts.size(); k++) {
                System.arraycopy(parts.get(k), r * widths[k], out, r * width + off, widths[k]);
                off += widths[k];
            }
        }
        shape[shape.length - 1] = width;
        return TensorData.ofFloats("targets", shape, out);
    }

    /** h := Σ(x - x̄)(x - x̄)ᵀ using the intercept column of {@code a} (Σx) and the row count. */
    private static void center(DMatrixRMaj h, DMatrixRMaj a, int f, long n) {
        for (int i = 0; i < f; i++) {
            double si = a.get(i, f);
            for (int j = 0; j < f; j++) {
                h.add(i, j, -si * a.get(j, f) / n);
            }
        }
    }

    /** {@code Σ(x - x̄)(y - ȳ)}: products of the first f inputs with the targets once the intercept is fit. */
    private static DMatrixRMaj centred(DMatrixRMaj a, DMatrixRMaj b, int f, long n) {
        DMatrixRMaj c = new DMatrixRMaj(f, b.numCols);
        for (int i = 0; i < f; i++) {
            for (int o = 0; o < b.numCols; o++) {
                c.set(i, o, b.get(i, o) - a.get(i, f) * b.get(f, o) / n);
            }
        }
        return c;
    }

    /** {@code Σ(y - ȳ)²} over all targets, from {@code Σy²} and the intercept row of b. */
    private static double centredYy(DMatrixRMaj b, double yy, int f, long n) {
        double c = yy;
        for (int o = 0; o < b.numCols; o++) {
            c -= b.get(f, o) * b.get(f, o) / n;
        }
        return c;
    }

    /**
     * The SparseGPT update on {@code w} (rows x cols, row-major), returning the pruned weights.
     *
     * @param h the layer input's Gram matrix (cols x cols); not modified
     */
    static double[] sparseGpt(double[] w0, int rows, int cols, DMatrixRMaj h, Options o) {
        return sparseGpt(w0, rows, cols, h, o, -1);
    }

    /**
     * @param zeros unstructured: exactly this many weights are zeroed, spread over the column blocks in proportion
     *     to their width; negative for {@code round(sparsity · rows · cols)}
     */
    static double[] sparseGpt(double[] w0, int rows, int cols, DMatrixRMaj h, Options o, long zeros) {
        long totalZeros = zeros >= 0 ? zeros : Math.round(o.sparsity() * rows * (double) cols);
        double[] w = w0.clone();
        DMatrixRMaj hd = h.copy();
        double mean = 0;
        for (int i = 0; i < cols; i++) {
            if (hd.get(i, i) == 0) {
                // An input that is always zero: its weights do nothing, prune them and keep H invertible.
                hd.set(i, i, 1);
                for (int r = 0; r < rows; r++) {
                    w[r * cols + i] = 0;
                }
            }
            mean += hd.get(i, i);
        }
        mean /= cols;
        DMatrixRMaj u = null;
        for (double damp = Math.max(o.damp(), 1e-6); u == null && damp < 10; damp *= 10) {
            u = inverseCholeskyUpper(hd, damp * mean);
        }
        if (u == null) {
            throw new IllegalStateException("the input Hessian is not positive definite even with heavy damping");
        }
        int bs = o.blockSize();
        for (int i1 = 0; i1 < cols; i1 += bs) {
            int i2 = Math.min(cols, i1 + bs);
            int count = i2 - i1;
            double[] err = new double[rows * count];
            boolean[] mask = new boolean[rows * count];
            if (o.groupM() == 0) {
                // Unstructured: the cheapest fraction of the block, by OBS cost w² / [H⁻¹]_qq².
                double[] cost = new double[rows * count];
                for (int r = 0; r < rows; r++) {
                    for (int i = 0; i < count; i++) {
                        double d = u.get(i1 + i, i1 + i);
                        double v = w[r * cols + i1 + i];
                        cost[r * count + i] = v * v / (d * d);
                    }
                }
                // Cumulative rounding: the blocks' counts add up to exactly totalZeros.
                int k = (int) (Math.round(totalZeros * (double) i2 / cols) - Math.round(totalZeros * (double) i1 / cols));
                if (k > 0) {
                    double[] sorted = cost.clone();
                    Arrays.sort(sorted);
                    double thr = sorted[k - 1];
                    int marked = 0;
                    for (int i = 0; i < cost.length && marked < k; i++) {
                        if (cost[i] < thr) {
                            mask[i] = true;
                            marked++;
                        }
                    }
                    for (int i = 0; i < cost.length && marked < k; i++) {
                        if (!mask[i] && cost[i] == thr) {
                            mask[i] = true;
                            marked++;
                        }
                    }
                }
            }
            for (int i = 0; i < count; i++) {
                int col = i1 + i;
                if (o.groupM() > 0 && col % o.groupM() == 0) {
                    int m = o.groupM();
                    Integer[] idx = new Integer[m];
                    double[] c = new double[m];
                    for (int r = 0; r < rows; r++) {
                        for (int j = 0; j < m; j++) {
                            double d = u.get(col + j, col + j);
                            double v = w[r * cols + col + j];
                            c[j] = v * v / (d * d);
                            idx[j] = j;
                        }
                        Arrays.sort(idx, (x, y) -> Double.compare(c[x], c[y]));
                        for (int j = 0; j < m - o.keepN(); j++) {
                            mask[r * count + i + idx[j]] = true;
                        }
                    }
                }
                double d = u.get(col, col);
                for (int r = 0; r < rows; r++) {
                    int at = r * cols + col;
                    double v = w[at];
                    double q = mask[r * count + i] ? 0 : v;
                    double e = (v - q) / d;
                    err[r * count + i] = e;
                    if (e != 0) {
                        for (int j = col; j < i2; j++) {
                            w[r * cols + j] -= e * u.get(col, j);
                        }
                    }
                    w[at] = q;
                }
            }
            if (i2 < cols) {
                // Lazy batch update of the columns right of the block: W[:, i2:] -= Err · U[i1:i2, i2:].
                DMatrixRMaj e = DMatrixRMaj.wrap(rows, count, err);
                DMatrixRMaj uBlock = CommonOps_DDRM.extract(u, i1, i2, i2, cols);
                DMatrixRMaj delta = new DMatrixRMaj(rows, cols - i2);
                CommonOps_DDRM.mult(e, uBlock, delta);
                for (int r = 0; r < rows; r++) {
                    for (int j = i2; j < cols; j++) {
                        w[r * cols + j] -= delta.get(r, j - i2);
                    }
                }
            }
        }
        return w;
    }

    /** Upper Cholesky factor U of (H + λI)⁻¹ (so that (H + λI)⁻¹ = UᵀU), or null when not positive definite. */
    static DMatrixRMaj inverseCholeskyUpper(DMatrixRMaj h, double lambda) {
        int n = h.numCols;
        DMatrixRMaj damped = h.copy();
        for (int i = 0; i < n; i++) {
            damped.add(i, i, lambda);
        }
        LinearSolverDense<DMatrixRMaj> solver = LinearSolverFactory_DDRM.symmPosDef(n);
        if (!solver.setA(damped)) {
            return null;
        }
        DMatrixRMaj inv = new DMatrixRMaj(n, n);
        solver.invert(inv);
        // Symmetrize: round-off makes the inverse slightly asymmetric, which the decomposition dislikes.
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double v = 0.5 * (inv.get(i, j) + inv.get(j, i));
                inv.set(i, j, v);
                inv.set(j, i, v);
            }
        }
        CholeskyDecomposition_F64<DMatrixRMaj> chol = DecompositionFactory_DDRM.chol(n, false);
        if (!chol.decompose(inv)) {
            return null;
        }
        DMatrixRMaj u = chol.getT(null);
        for (int i = 0; i < n; i++) {
            if (!(u.get(i, i) > 0) || !Double.isFinite(u.get(i, i))) {
                return null;
            }
        }
        return u;
    }

    /** b = ȳ - W x̄: the best intercept for fixed weights. */
    private static float[] optimalBias(DMatrixRMaj a, DMatrixRMaj b, float[] w, int outs, int f, long n) {
        float[] bias = new float[outs];
        for (int o = 0; o < outs; o++) {
            double v = b.get(f, o);
            for (int i = 0; i < f; i++) {
                v -= w[o * f + i] * a.get(i, f);
            }
            bias[o] = (float) (v / n);
        }
        return bias;
    }

    /** ||Y - [X 1][W b]ᵀ||² from the normal-equation terms. */
    private static double error(DMatrixRMaj a, DMatrixRMaj b, double yy, float[] w, float[] bias, int outs, int f) {
        DMatrixRMaj m = new DMatrixRMaj(f + 1, outs);
        for (int o = 0; o < outs; o++) {
            for (int i = 0; i < f; i++) {
                m.set(i, o, w[o * f + i]);
            }
            m.set(f, o, bias[o]);
        }
        return LeastSquaresReconstruction.residual(a, b, yy, m);
    }

    private static long zeros(float[] w) {
        long z = 0;
        for (float v : w) {
            if (v == 0f) {
                z++;
            }
        }
        return z;
    }
}
