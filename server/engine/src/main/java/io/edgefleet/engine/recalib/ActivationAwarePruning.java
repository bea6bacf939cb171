package io.edgefleet.engine.recalib;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * Pruning of a linear layer whose output goes straight into an elementwise activation, with the error counted after
 * the activation instead of before it. This is the first layer of a transformer's feed-forward block,
 * {@code GELU(x W₁ + b₁)}. Before the activation every output of every token counts the same. After it, an error
 * where the activation is flat (the large negative pre-activations, where much of a feed-forward layer sits) changes
 * nothing downstream, and an error where it is steep passes through at full size.
 *
 * <p>To first order the post-activation error of output {@code r} on token {@code t} is {@code φ'(z_tr)·(ẑ_tr − z_tr)},
 * with {@code z} the float model's pre-activation (the target). So each output row gets its own Hessian
 * {@code H_r = Σ_t s_tr [x_t 1][x_t 1]ᵀ}, with {@code s_tr = φ'(z_tr)² + FLOOR} and {@code x} the pruned model's
 * input. The floor keeps some weight on the pre-activation error where the slope vanishes: GELU is flat at its
 * minimum near −0.75 too, and a unit that is off on every calibration token may fire on other text. These products
 * are float32 matrix products in ONNX Runtime, a chunk of rows at a time, summed in double.
 *
 * <p>Each row is pruned by exact greedy elimination (Optimal Brain Compression, Frantar and Alistarh 2022). The
 * weight with the least exact cost {@code w_q² / [H_r⁻¹]_qq} is removed, the others are updated, and this repeats. That
 * records every row's cost curve. The layer's zeros go to the cheapest steps over all rows: prefixes of each row's
 * elimination order, with each row's step costs made non-decreasing. Every row is finally refit exactly on the weights
 * it keeps, with the intercept always kept. Rows can therefore end with different counts: a unit that is rarely on
 * gives up more weights than one that carries the signal. SparseGPT's shared Hessian gives that freedom only within
 * one block of columns, with costs measured before the activation.
 */
final class ActivationAwarePruning {
    /** Weight of the pre-activation error where the activation's slope is zero, relative to a slope of one. */
    static final double FLOOR = 0.01;
    /**
     * How far a row's share of zeros may stray from the layer's: the calibration data decide the split within it,
     * but a unit the calibration text rarely turns on may well fire on other text, and the cost of pruning it
     * there is not measured.
     */
    static final double ROW_SPREAD = 0.3;
    /** Output rows per weighted-product run (each holds a rows x features x tokens float buffer in ORT). */
    private static final int ROW_CHUNK = 32;
    /** Tokens per weighted-product run. */
    private static final int TOKEN_BLOCK = 2048;

    /** The per-row Hessians are held in memory as floats: at most this many (1 GiB). */
    static final long MAX_HESSIAN_FLOATS = 1L << 28;

    private static volatile OrtRunner products;

    private ActivationAwarePruning() {
    }

    /**
     * Whether a layer's per-row Hessians fit in {@link #MAX_HESSIAN_FLOATS} (MiniLM's FFN input, 1,536 x 385², uses
     * 0.85 of it); larger layers keep the SparseGPT path.
     */
    static boolean fits(int outputs, int inputs) {
        return (long) outputs * (inputs + 1) * (inputs + 1) <= MAX_HESSIAN_FLOATS;
    }

    /** The elementwise activations recognised after a linear layer, with their slopes. */
    enum Activation {
        RELU, GELU;

        double slope(double z) {
            return switch (this) {
                case RELU -> z > 0 ? 1 : 0;
                case GELU -> 0.5 * (1 + erf(z / Math.sqrt(2))) + z * Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
            };
        }
    }

    /**
     * The activation a layer's output goes into and nothing else: a {@code Relu} or {@code Gelu} node, or the
     * exported erf form of GELU, {@code Mul(Mul(z, Add(Erf(Div(z, √2)), 1)), 0.5)} (a {@code Mul} by 1/√2 in place
     * of the {@code Div} too). The tanh approximation of {@code Gelu} is given the exact GELU slope; the two differ by
     * less than 0.02, and the slope only weights the error.
     */
    static Optional<Activation> following(Graph g, LinearLayer layer) {
        String z = layer.output();
        if (g.isGraphOutput(z)) {
            return Optional.empty();
        }
        List<NodeProto> cons = g.consumers(z);
        if (cons.size() == 1 && cons.get(0).getDomain().isEmpty()) {
            switch (cons.get(0).getOpType()) {
                case "Relu":
                    return Optional.of(Activation.RELU);
                case "Gelu":
                    return Optional.of(Activation.GELU);
                default:
                    return Optional.empty();
            }
        }
        if (cons.size() != 2) {
            return Optional.empty();
        }
        NodeProto scale = cons.stream().filter(n -> n.getOpType().equals("Div") || n.getOpType().equals("Mul"))
                .filter(n -> isScale(g, n, z)).findFirst().orElse(null);
        if (scale == null) {
            return Optional.empty();
        }
        NodeProto erf = only(g, scale.getOutput(0), "Erf");
        NodeProto plusOne = erf == null ? null : only(g, erf.getOutput(0), "Add");
        if (plusOne == null || !hasScalar(g, plusOne, erf.getOutput(0), 1.0)) {
            return Optional.empty();
        }
        NodeProto times = only(g, plusOne.getOutput(0), "Mul");
        NodeProto other = cons.get(0) == scale ? cons.get(1) : cons.get(0);
        if (times == null || !times.equals(other) || !times.getInputList().contains(z)) {
            return Optional.empty();
        }
        NodeProto half = only(g, times.getOutput(0), "Mul");
        return half != null && hasScalar(g, half, times.getOutput(0), 0.5) ? Optional.of(Activation.GELU)
                : Optional.empty();
    }

    /** {@code Div(z, √2)} or {@code Mul(z, 1/√2)}. */
    private static boolean isScale(Graph g, NodeProto n, String z) {
        if (!n.getDomain().isEmpty() || n.getInputCount() != 2 || !n.getInput(0).equals(z)
                && !(n.getOpType().equals("Mul") && n.getInput(1).equals(z))) {
            return false;
        }
        return hasScalar(g, n, z, n.getOpType().equals("Div") ? Math.sqrt(2) : 1 / Math.sqrt(2));
    }

    /** The one consumer of {@code value} when it is a default-domain node of that type, else null. */
    private static NodeProto only(Graph g, String value, String opType) {
        if (g.isGraphOutput(value)) {
            return null;
        }
        List<NodeProto> c = g.consumers(value);
        return c.size() == 1 && c.get(0).getOpType().equals(opType) && c.get(0).getDomain().isEmpty() ? c.get(0)
                : null;
    }

    /** Whether the node's input other than {@code value} is a one-element constant equal to {@code expected}. */
    private static boolean hasScalar(Graph g, NodeProto n, String value, double expected) {
        if (n.getInputCount() != 2) {
            return false;
        }
        String other = n.getInput(0).equals(value) ? n.getInput(1) : n.getInput(0);
        return g.constantValue(other).filter(t -> t.elementCount() == 1)
                .map(t -> Math.abs(t.floats()[0] - expected) <= 1e-3 * Math.abs(expected)).orElse(false);
    }

    /**
     * Captured regression rows of one layer: the pruned model's inputs with an intercept column ({@code tokens x
     * (features+1)}), and the float model's pre-activations, transposed ({@code outputs x tokens}).
     */
    record Rows(float[] x, float[] zT, int tokens, int features, int outputs) {
    }

    /**
     * Everything about a layer that does not depend on how many weights it loses: the rows' weighted Hessians and
     * their elimination orders. One preparation serves any zero count ({@link #apply}), so probing a layer at several
     * ratios costs one capture and one elimination.
     */
    record Prepared(Activation act, int features, int outputs, long tokens, float[] hessians, double[] cross,
            double[] energy, double[] lambda, int[][] order, double[][] steps) {
    }

    static Prepared prepare(Activation act, Rows rows, double damp) {
        int f = rows.features();
        int f1 = f + 1;
        int outs = rows.outputs();
        float[] hessians = new float[outs * f1 * f1];
        double[] cross = new double[outs * f1];
        double[] energy = new double[outs];
        weightedProducts(act, rows, hessians, cross, energy);
        int[][] order = new int[outs][];
        double[][] steps = new double[outs][];
        double[] lambda = new double[outs];
        for (int r = 0; r < outs; r++) {
            DMatrixRMaj h = hessian(hessians, r, f1);
            lambda[r] = damping(h, f, damp);
            Elimination e = eliminate(h, Arrays.copyOfRange(cross, r * f1, (r + 1) * f1), lambda[r], f);
            order[r] = e.order();
            steps[r] = e.costs();
        }
        return new Prepared(act, f, outs, rows.tokens(), hessians, cross, energy, lambda, order, steps);
    }

    /**
     * Writes the layer pruned to {@code zeros} weights into {@code g}, every row refit exactly on what it keeps.
     *
     * @param layer the layer as found in {@code g}
     */
    static HessianPruner.LayerReport apply(Graph g, LinearLayer layer, Prepared p, long zeros) {
        int f = p.features();
        int f1 = f + 1;
        int outs = p.outputs();
        if (zeros < 0 || zeros > (long) outs * f) {
            throw new IllegalArgumentException("cannot zero " + zeros + " of " + (long) outs * f + " weights");
        }
        double mean = zeros / (double) ((long) outs * f);
        int[] perRow = allocate(p.steps(), zeros, (int) Math.floor(Math.max(0, mean - ROW_SPREAD) * f),
                (int) Math.ceil(Math.min(1, mean + ROW_SPREAD) * f));
        float[] w = new float[outs * f];
        float[] bias = new float[outs];
        double residual = 0;
        double energy = 0;
        for (int r = 0; r < outs; r++) {
            boolean[] dropped = new boolean[f];
            for (int k = 0; k < perRow[r]; k++) {
                dropped[p.order()[r][k]] = true;
            }
            DMatrixRMaj h = hessian(p.hessians(), r, f1);
            double[] b = Arrays.copyOfRange(p.cross(), r * f1, (r + 1) * f1);
            double[] sol = solveOnSupport(h, b, dropped, p.lambda()[r]);
            for (int c = 0; c < f; c++) {
                w[r * f + c] = (float) sol[c];
            }
            bias[r] = (float) sol[f];
            residual += quadratic(h, b, sol) + p.energy()[r];
            energy += p.energy()[r];
        }
        layer.write(g, w, bias);
        int min = Arrays.stream(perRow).min().orElse(0);
        int max = Arrays.stream(perRow).max().orElse(0);
        String note = String.format(Locale.ROOT, "activation-aware (%s slope² + %.2f): exact elimination per row, "
                + "%d-%d of %d weights zeroed per row; error after the activation", p.act().name(), FLOOR, min, max,
                f);
        return new HessianPruner.LayerReport(layer.name(), outs, f, p.tokens(), zeros / (double) ((long) outs * f),
                Math.max(0, residual) / Math.max(energy, 1e-30), note);
    }

    /** {@code sᵀ H s − 2 sᵀ b} (the weighted residual without the target's own energy). */
    private static double quadratic(DMatrixRMaj h, double[] b, double[] s) {
        int n = b.length;
        double q = 0;
        for (int i = 0; i < n; i++) {
            double hi = 0;
            for (int j = 0; j < n; j++) {
                hi += h.get(i, j) * s[j];
            }
            q += s[i] * hi - 2 * s[i] * b[i];
        }
        return q;
    }

    private static DMatrixRMaj hessian(float[] all, int r, int f1) {
        DMatrixRMaj h = new DMatrixRMaj(f1, f1);
        int base = r * f1 * f1;
        for (int i = 0; i < f1 * f1; i++) {
            h.data[i] = all[base + i];
        }
        return h;
    }

    /** {@code damp} times the mean diagonal over the weight columns (the intercept's is the weights' sum). */
    private static double damping(DMatrixRMaj h, int f, double damp) {
        double mean = 0;
        for (int i = 0; i < f; i++) {
            mean += h.get(i, i);
        }
        return Math.max(damp * mean / f, 1e-12);
    }

    /**
     * @param order the weight columns in the order they were removed
     * @param costs the exact increase of the row's weighted error at each removal
     */
    record Elimination(int[] order, double[] costs) {
    }

    /**
     * Greedy exact elimination of every weight column of one row (the intercept, column {@code f}, stays): start from
     * the damped least-squares solution, then repeatedly remove the weight whose removal raises the error least and
     * move the others to the new optimum, downdating the inverse Hessian by the removed column.
     */
    static Elimination eliminate(DMatrixRMaj h, double[] b, double lambda, int f) {
        int n = f + 1;
        DMatrixRMaj damped = h.copy();
        for (int i = 0; i < n; i++) {
            damped.add(i, i, lambda);
        }
        LinearSolverDense<DMatrixRMaj> solver = LinearSolverFactory_DDRM.symmPosDef(n);
        DMatrixRMaj inv = new DMatrixRMaj(n, n);
        if (!solver.setA(damped)) {
            throw new IllegalStateException("a row's damped Hessian is not positive definite");
        }
        solver.invert(inv);
        double[] hi = inv.data;
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += hi[i * n + j] * b[j];
            }
            w[i] = s;
        }
        boolean[] gone = new boolean[n];
        int[] active = new int[n];
        int count = n;
        for (int i = 0; i < n; i++) {
            active[i] = i;
        }
        int[] order = new int[f];
        double[] costs = new double[f];
        double[] col = new double[n];
        for (int step = 0; step < f; step++) {
            int best = -1;
            double bestCost = Double.POSITIVE_INFINITY;
            for (int a = 0; a < count; a++) {
                int q = active[a];
                if (q == f) {
                    continue;
                }
                double c = w[q] * w[q] / hi[q * n + q];
                if (c < bestCost) {
                    bestCost = c;
                    best = q;
                }
            }
            double d = hi[best * n + best];
            double ratio = w[best] / d;
            for (int a = 0; a < count; a++) {
                int i = active[a];
                col[i] = hi[i * n + best];
            }
            for (int a = 0; a < count; a++) {
                int i = active[a];
                w[i] -= ratio * col[i];
                double ci = col[i] / d;
                int rowBase = i * n;
                for (int a2 = 0; a2 < count; a2++) {
                    int j = active[a2];
                    hi[rowBase + j] -= ci * col[j];
                }
            }
            w[best] = 0;
            gone[best] = true;
            int k = 0;
            for (int a = 0; a < count; a++) {
                if (!gone[active[a]]) {
                    active[k++] = active[a];
                }
            }
            count = k;
            order[step] = best;
            costs[step] = Math.max(0, bestCost);
        }
        return new Elimination(order, costs);
    }

    /**
     * Zeros per row summing to {@code total}, each row's count within {@code [min, max]}: every row first takes its
     * {@code min} cheapest-first steps; each row's step costs are raised to their running maximum, so the cheapest
     * of the remaining steps over all rows always extend a prefix of every row's order; then the cheapest of those
     * are taken (ties in row order) until the total is reached.
     */
    static int[] allocate(double[][] steps, long total, int min, int max) {
        int rows = steps.length;
        int[] perRow = new int[rows];
        long left = total;
        int all = 0;
        for (int r = 0; r < rows; r++) {
            perRow[r] = Math.min(min, steps[r].length);
            left -= perRow[r];
            all += Math.max(0, Math.min(max, steps[r].length) - perRow[r]);
        }
        if (left < 0 || left > all) {
            throw new IllegalArgumentException(total + " zeros cannot be split over " + rows + " rows with "
                    + min + "-" + max + " each");
        }
        double[] env = new double[all];
        int[] rowOf = new int[all];
        int at = 0;
        for (int r = 0; r < rows; r++) {
            double run = 0;
            int end = Math.min(max, steps[r].length);
            for (int k = 0; k < end; k++) {
                run = Math.max(run, steps[r][k]);
                if (k >= perRow[r]) {
                    env[at] = run;
                    rowOf[at++] = r;
                }
            }
        }
        Integer[] idx = new Integer[all];
        for (int i = 0; i < all; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Double.compare(env[a], env[b]));
        for (int i = 0; i < left; i++) {
            perRow[rowOf[idx[i]]]++;
        }
        return perRow;
    }

    /** The damped least-squares solution with the dropped weight columns fixed at zero (intercept always kept). */
    private static double[] solveOnSupport(DMatrixRMaj h, double[] b, boolean[] dropped, double lambda) {
        int n = b.length;
        int[] keep = new int[n];
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (i == n - 1 || !dropped[i]) {
                keep[k++] = i;
            }
        }
        DMatrixRMaj a = CommonOps_DDRM.extract(h, keep, k, keep, k, null);
        DMatrixRMaj rhs = new DMatrixRMaj(k, 1);
        for (int i = 0; i < k; i++) {
            a.add(i, i, lambda);
            rhs.set(i, 0, b[keep[i]]);
        }
        DMatrixRMaj x = new DMatrixRMaj(k, 1);
        LinearSolverDense<DMatrixRMaj> solver = LinearSolverFactory_DDRM.symmPosDef(k);
        if (!solver.setA(a)) {
            throw new IllegalStateException("a row's damped Hessian on its support is not positive definite");
        }
        solver.solve(rhs, x);
        double[] out = new double[n];
        for (int i = 0; i < k; i++) {
            out[keep[i]] = x.get(i, 0);
        }
        return out;
    }

    /**
     * Fills every row's {@code H_r} (float, row-major, {@code (f+1)²} each), {@code b_r = Σ_t s_tr x_t z_tr} and
     * {@code Σ_t s_tr z_tr²}, running chunks of rows over blocks of tokens in ONNX Runtime and summing the blocks in
     * double.
     */
    private static void weightedProducts(Activation act, Rows rows, float[] hessians, double[] cross,
            double[] energy) {
        int f1 = rows.features() + 1;
        int tokens = rows.tokens();
        int outs = rows.outputs();
        double[] hAcc = new double[ROW_CHUNK * f1 * f1];
        for (int r0 = 0; r0 < outs; r0 += ROW_CHUNK) {
            int rc = Math.min(ROW_CHUNK, outs - r0);
            Arrays.fill(hAcc, 0);
            for (int t0 = 0; t0 < tokens; t0 += TOKEN_BLOCK) {
                int tc = Math.min(TOKEN_BLOCK, tokens - t0);
                float[] s = new float[rc * tc];
                float[] z = new float[rc * tc];
                for (int r = 0; r < rc; r++) {
                    int base = (r0 + r) * tokens + t0;
                    for (int t = 0; t < tc; t++) {
                        double zt = rows.zT()[base + t];
                        double sl = act.slope(zt);
                        double st = sl * sl + FLOOR;
                        s[r * tc + t] = (float) st;
                        z[r * tc + t] = (float) zt;
                        energy[r0 + r] += st * zt * zt;
                    }
                }
                Map<String, TensorData> feeds = new LinkedHashMap<>();
                feeds.put("x", TensorData.ofFloats("x", new long[] {tc, f1},
                        Arrays.copyOfRange(rows.x(), t0 * f1, (t0 + tc) * f1)));
                feeds.put("s", TensorData.ofFloats("s", new long[] {rc, tc}, s));
                feeds.put("z", TensorData.ofFloats("z", new long[] {rc, tc}, z));
                Map<String, TensorData> out = runner().run(feeds);
                float[] h = out.get("h").floats();
                float[] b = out.get("b").floats();
                for (int i = 0; i < rc * f1 * f1; i++) {
                    hAcc[i] += h[i];
                }
                for (int i = 0; i < rc * f1; i++) {
                    cross[r0 * f1 + i] += b[i];
                }
            }
            for (int i = 0; i < rc * f1 * f1; i++) {
                hessians[r0 * f1 * f1 + i] = (float) hAcc[i];
            }
        }
    }

    private static OrtRunner runner() {
        OrtRunner r = products;
        if (r == null) {
            synchronized (ActivationAwarePruning.class) {
                r = products;
                if (r == null) {
                    r = OrtRunner.open(productsModel(), OrtRunner.Options.defaults().withThreads(1));
                    products = r;
                }
            }
        }
        return r;
    }

    /**
     * {@code h[r] = Xᵀ diag(s[r]) X} and {@code b[r] = Xᵀ (s[r] ⊙ z[r])} for a chunk of rows r, all dimensions
     * dynamic: x is tokens x features, s and z rows x tokens.
     */
    static OnnxModel productsModel() {
        OnnxBuilder b = OnnxBuilder.model("weighted_gram").opset(17)
                .input("x", ElemType.FLOAT, "tokens", "features")
                .input("s", ElemType.FLOAT, "rows", "tokens")
                .input("z", ElemType.FLOAT, "rows", "tokens")
                .output("h", ElemType.FLOAT, "rows", "features", "features")
                .output("b", ElemType.FLOAT, "rows", "features");
        b.initializerInt64("axis0", new long[] {1}, 0);
        b.initializerInt64("axis1", new long[] {1}, 1);
        b.initializerInt64("axis2", new long[] {1}, 2);
        b.node("Transpose").in("x").out("xt").ints("perm", 1, 0).add();
        b.node("Unsqueeze").in("xt", "axis0").out("xt3").add();
        b.node("Unsqueeze").in("s", "axis1").out("s3").add();
        b.node("Mul").in("xt3", "s3").out("xs").add();
        b.node("MatMul").in("xs", "x").out("h").add();
        b.node("Unsqueeze").in("z", "axis2").out("z3").add();
        b.node("MatMul").in("xs", "z3").out("b3").add();
        b.node("Squeeze").in("b3", "axis2").out("b").add();
        return b.build();
    }

    /** Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7), enough for a weight. */
    static double erf(double x) {
        double t = 1 / (1 + 0.3275911 * Math.abs(x));
        double y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                + t * 1.061405429)))) * Math.exp(-x * x);
        return x >= 0 ? y : -y;
    }
}
