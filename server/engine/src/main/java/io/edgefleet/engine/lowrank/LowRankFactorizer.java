package io.edgefleet.engine.lowrank;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.recalib.Gram;
import io.edgefleet.engine.recalib.LayerRows;
import io.edgefleet.engine.recalib.LinearLayer;
import io.edgefleet.engine.recalib.PairedCapture;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.CholeskyDecomposition_F64;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Truncated-SVD factorization of fully connected layers: {@code W (out x in) ≈ B (out x r) · A (r x in)}, written
 * as two thinner layers {@code x -> MatMul(Aᵀ) -> h[r] -> Gemm/MatMul(Bᵀ) + bias}. A layer is only replaced when the
 * rank that keeps the energy budget makes the pair cheaper than the original by the required margin
 * ({@code r (in + out) <= maxCostFraction * in * out}); otherwise the decision and its reason are recorded.
 *
 * <p>Data-aware mode whitens by the layer's input statistics first: with {@code XᵀX/n = L Lᵀ} it truncates the
 * SVD of {@code W L}, which minimises the output error {@code ||(W - Ŵ) X||} instead of the weight error, and the
 * energy budget then measures kept output energy.
 */
public final class LowRankFactorizer {
    private LowRankFactorizer() {
    }

    /**
     * @param energy fraction of the squared singular values kept (e.g. 0.95)
     * @param maxCostFraction factorize only when the pair has at most this fraction of the original weights
     * @param minWeights layers with fewer weights are left alone
     * @param dataAware whiten by calibration input statistics (needs data)
     * @param rank when > 0, this rank for every layer instead of the one the energy budget asks for
     */
    public record Options(double energy, double maxCostFraction, long minWeights, boolean dataAware, int maxSamples,
            int rank) {
        public Options {
            if (rank < 0) {
                throw new IllegalArgumentException("rank must be >= 0 (0: chosen by the energy budget), got " + rank);
            }
            if (!(energy > 0 && energy <= 1)) {
                throw new IllegalArgumentException("energy must be in (0, 1], got " + energy);
            }
            if (!(maxCostFraction > 0 && maxCostFraction <= 1)) {
                throw new IllegalArgumentException("maxCostFraction must be in (0, 1], got " + maxCostFraction);
            }
        }

        public static Options defaults() {
            return new Options(0.95, 0.8, 1024, false, 256, 0);
        }

        public Options withEnergy(double e) {
            return new Options(e, maxCostFraction, minWeights, dataAware, maxSamples, rank);
        }

        public Options withDataAware(boolean on) {
            return new Options(energy, maxCostFraction, minWeights, on, maxSamples, rank);
        }

        /** A fixed rank for every layer instead of the energy budget (still only where it is cheaper). */
        public Options withRank(int r) {
            return new Options(energy, maxCostFraction, minWeights, dataAware, maxSamples, r);
        }
    }

    /**
     * @param rank the rank the energy budget needs (0 when not computed)
     * @param energyKept fraction of squared singular values kept at that rank
     * @param weightsAfter weights of the pair (the original count when not factorized)
     */
    public record LayerDecision(String layer, int outputs, int inputs, int rank, double energyKept, boolean factorized,
            long weightsBefore, long weightsAfter, String reason) {
    }

    public record Result(OnnxModel model, List<LayerDecision> layers) {
        public long factorizedCount() {
            return layers.stream().filter(LayerDecision::factorized).count();
        }
    }

    /**
     * @param calibration required in data-aware mode, ignored otherwise
     * @param select which Gemm/MatMul layers to consider (null: all)
     */
    public static Result factorize(OnnxModel model, Options o, Dataset calibration, Predicate<LinearLayer> select) {
        if (o.dataAware() && calibration == null) {
            throw new IllegalArgumentException("data-aware low-rank factorization needs calibration data");
        }
        List<String> names = new ArrayList<>();
        for (LinearLayer l : LinearLayer.findAll(model)) {
            if (!l.isConv() && (select == null || select.test(l))) {
                names.add(l.name());
            }
        }
        OnnxModel current = model;
        List<LayerDecision> out = new ArrayList<>();
        for (String name : names) {
            Graph g = current.edit();
            LinearLayer l = null;
            for (LinearLayer c : LinearLayer.findAll(g)) {
                if (c.name().equals(name)) {
                    l = c;
                }
            }
            if (l == null) {
                continue;
            }
            int outs = l.outFeatures();
            int ins = l.inFeatures();
            long before = (long) outs * ins;
            if (before < o.minWeights()) {
                out.add(new LayerDecision(name, outs, ins, 0, 1, false, before, before, "below the size limit"));
                continue;
            }
            if (LinearLayer.usesOf(g, l.weight()) != 1) {
                out.add(new LayerDecision(name, outs, ins, 0, 1, false, before, before, "weights shared with other nodes"));
                continue;
            }
            int breakEven = (int) Math.floor(o.maxCostFraction() * outs * ins / (double) (outs + ins));
            if (breakEven < 1) {
                out.add(new LayerDecision(name, outs, ins, 0, 1, false, before, before,
                        "no rank is cheap enough for a " + outs + "x" + ins + " layer"));
                continue;
            }
            DMatrixRMaj w = new DMatrixRMaj(outs, ins);
            float[] wm = l.weightMatrix(g);
            for (int i = 0; i < wm.length; i++) {
                w.data[i] = wm[i];
            }
            DMatrixRMaj lower = o.dataAware() ? inputFactor(current, l, calibration, o.maxSamples()) : null;
            DMatrixRMaj target = w;
            if (lower != null) {
                target = new DMatrixRMaj(outs, ins);
                CommonOps_DDRM.mult(w, lower, target);
            }
            SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(outs, ins, true, true, true);
            if (!svd.decompose(target.copy())) {
                out.add(new LayerDecision(name, outs, ins, 0, 1, false, before, before, "SVD did not converge"));
                continue;
            }
            DMatrixRMaj u = svd.getU(null, false);
            DMatrixRMaj s = svd.getW(null);
            DMatrixRMaj vt = svd.getV(null, true);
            SingularOps_DDRM.descendingOrder(u, false, s, vt, true);
            int k = Math.min(outs, ins);
            double total = 0;
            for (int i = 0; i < k; i++) {
                total += s.get(i, i) * s.get(i, i);
            }
            int rank = k;
            double acc = 0;
            for (int i = 0; i < k; i++) {
                acc += s.get(i, i) * s.get(i, i);
                if (total == 0 || acc / total >= o.energy() - 1e-12) {
                    rank = i + 1;
                    break;
                }
            }
            if (o.rank() > 0) {
                rank = Math.min(o.rank(), k);
            }
            double kept = 0;
            for (int i = 0; i < rank; i++) {
                kept += s.get(i, i) * s.get(i, i);
            }
            double energyKept = total == 0 ? 1 : kept / total;
            long after = (long) rank * (outs + ins);
            if (rank > breakEven) {
                out.add(new LayerDecision(name, outs, ins, rank, energyKept, false, before, before, String.format(
                        "rank %d keeps %.1f%% of the energy but only rank <= %d is cheaper by the required margin",
                        rank, 100 * energyKept, breakEven)));
                continue;
            }
            // B = U_r Σ_r (out x r); A = V_rᵀ (r x in), un-whitened by L⁻¹ in data-aware mode.
            DMatrixRMaj b = new DMatrixRMaj(outs, rank);
            for (int i = 0; i < outs; i++) {
                for (int j = 0; j < rank; j++) {
                    b.set(i, j, u.get(i, j) * s.get(j, j));
                }
            }
            DMatrixRMaj a = CommonOps_DDRM.extract(vt, 0, rank, 0, ins);
            if (lower != null) {
                // A := A L⁻¹, i.e. solve Lᵀ Aᵀ = Aᵀ.
                DMatrixRMaj lt = CommonOps_DDRM.transpose(lower, null);
                DMatrixRMaj at = CommonOps_DDRM.transpose(a, null);
                DMatrixRMaj sol = new DMatrixRMaj(ins, rank);
                if (!CommonOps_DDRM.solve(lt, at, sol)) {
                    out.add(new LayerDecision(name, outs, ins, rank, energyKept, false, before, before,
                            "input statistics are singular"));
                    continue;
                }
                a = CommonOps_DDRM.transpose(sol, null);
            }
            rewrite(g, l, a, b, rank);
            current = g.toModel();
            out.add(new LayerDecision(name, outs, ins, rank, energyKept, true, before, after, ""));
        }
        return new Result(current, out);
    }

    /** Lower Cholesky factor of the damped input covariance XᵀX/n of a layer. */
    private static DMatrixRMaj inputFactor(OnnxModel model, LinearLayer l, Dataset data, int maxSamples) {
        LayerRows rows = new LayerRows(l, 64, 5);
        Gram[] gram = new Gram[1];
        PairedCapture.run(null, List.of(), model, List.of(l.input()), data, maxSamples, (first, n, ref, cand) -> {
            TensorData in = cand.get(l.input());
            if (gram[0] == null) {
                gram[0] = new Gram(rows.features(in.shape()), 0);
            }
            rows.forEach(in, null, first, (sample, x, y) -> gram[0].add(x, 0, null, 0));
        });
        DMatrixRMaj h = Gram.damped(gram[0].xtx(), 1e-2);
        CommonOps_DDRM.scale(1.0 / Math.max(1, gram[0].rows()), h);
        CholeskyDecomposition_F64<DMatrixRMaj> chol = DecompositionFactory_DDRM.chol(h.numCols, true);
        if (!chol.decompose(h)) {
            throw new IllegalStateException("input covariance of layer " + l.name() + " is not positive definite");
        }
        return chol.getT(null);
    }

    /** Replaces the layer by MatMul(x, Aᵀ) followed by the original op on Bᵀ, keeping output and bias. */
    private static void rewrite(Graph g, LinearLayer l, DMatrixRMaj a, DMatrixRMaj b, int rank) {
        int ins = l.inFeatures();
        int outs = l.outFeatures();
        String base = l.weight();
        String aName = g.uniqueName(base + ".lowrank_a");
        String bName = g.uniqueName(base + ".lowrank_b");
        float[] at = new float[ins * rank];
        for (int r = 0; r < rank; r++) {
            for (int i = 0; i < ins; i++) {
                at[i * rank + r] = (float) a.get(r, i);
            }
        }
        float[] bt = new float[rank * outs];
        for (int o = 0; o < outs; o++) {
            for (int r = 0; r < rank; r++) {
                bt[r * outs + o] = (float) b.get(o, r);
            }
        }
        g.setInitializer(TensorData.ofFloats(aName, new long[] {ins, rank}, at));
        g.setInitializer(TensorData.ofFloats(bName, new long[] {rank, outs}, bt));
        NodeProto old = l.node();
        String hidden = g.uniqueName(old.getOutput(0) + ".lowrank");
        NodeProto first = NodeProto.newBuilder().setOpType("MatMul").setName(g.uniqueName(l.name() + "_lowrank_a"))
                .addInput(l.input()).addInput(aName).addOutput(hidden).build();
        NodeProto.Builder second = old.toBuilder().setInput(0, hidden).setInput(1, bName);
        if (l.kind() == LinearLayer.Kind.GEMM) {
            // Bᵀ is stored [r, out]: transB=0; alpha was folded into W.
            second = LinearLayer.withIntAttr(second.build(), "transB", 0).toBuilder();
            boolean hasAlpha = LinearLayer.attr(old, "alpha").isPresent();
            if (hasAlpha) {
                for (int i = 0; i < second.getAttributeCount(); i++) {
                    if (second.getAttribute(i).getName().equals("alpha")) {
                        second.setAttribute(i, second.getAttribute(i).toBuilder().setF(1f));
                    }
                }
            }
        }
        g.replaceNode(old, first, second.build());
        if (g.consumers(base).isEmpty()) {
            g.removeInitializer(base);
        }
    }
}
