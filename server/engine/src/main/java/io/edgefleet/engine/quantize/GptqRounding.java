package io.edgefleet.engine.quantize;

import ai.onnxruntime.OrtException;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.decomposition.CholeskyDecomposition_F64;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * Hessian-aware rounding of MatMul weights to block-wise int4 (GPTQ, Frantar et al. 2023): the same Optimal Brain
 * Compression step the pruner uses, with "round to the grid" in place of "set to zero".
 *
 * <p>For {@code Y = X W} with {@code W [K, N]}, the squared output error on calibration inputs has Hessian
 * {@code H = XᵀX} over the K input features. Rows of W are rounded one at a time; the rounding error of row k,
 * divided by the k-th diagonal of the upper Cholesky factor U of {@code H⁻¹}, is pushed onto the rows not yet
 * rounded along U's k-th row, so later rows absorb what earlier ones lost. Each block of {@code blockSize} rows gets
 * its per-column scales when the block starts, from the weights as updated so far (squared-error scale search, as
 * in {@link QuantMath#mseBlockwise}). The result uses exactly the layout of
 * {@link Int4WeightOnlyQuantizer}: int4 values [K, N] and scales [ceil(K / blockSize), N].
 */
final class GptqRounding {
    private GptqRounding() {
    }

    /** Rounded weights: int4 values row-major [K, N] and scales [ceil(K / block), N]. */
    record Rounded(int[] q, float[] scales, int dampRetries) {
    }

    /**
     * @param w weights [K, N] row-major
     * @param h {@code XᵀX} [K, K] row-major (only read)
     * @param dampFraction added to the diagonal as a fraction of its mean (GPTQ uses 0.01)
     */
    static Rounded round(float[] w, int k, int n, double[] h, int block, int clipSteps, double dampFraction) {
        if (w.length != k * n || h.length != k * k) {
            throw new IllegalArgumentException("weights must be " + k + "x" + n + " and H " + k + "x" + k);
        }
        double[] wk = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            wk[i] = w[i];
        }
        DMatrixRMaj hd = new DMatrixRMaj(k, k, true, h);
        double mean = 0;
        for (int i = 0; i < k; i++) {
            mean += hd.get(i, i);
        }
        mean = Math.max(mean / k, 1e-12);
        for (int i = 0; i < k; i++) {
            if (hd.get(i, i) == 0) {
                // an input that never fired: its weights have no effect on the calibration outputs
                hd.set(i, i, 1);
                for (int c = 0; c < n; c++) {
                    wk[i * n + c] = 0;
                }
            }
        }
        DMatrixRMaj u = null;
        int retries = 0;
        double damp = dampFraction * mean;
        while (u == null) {
            DMatrixRMaj hDamped = hd.copy();
            for (int i = 0; i < k; i++) {
                hDamped.add(i, i, damp);
            }
            u = upperCholeskyOfInverse(hDamped);
            if (u == null) {
                if (++retries > 6) {
                    throw new IllegalStateException("H + damping is not positive definite even at damping " + damp);
                }
                damp = Math.max(damp * 10, 1e-6 * mean);
            }
        }
        int blocks = (k + block - 1) / block;
        float[] scales = new float[blocks * n];
        int[] q = new int[k * n];
        double[] err = new double[n];
        float[] column = new float[block];
        for (int b = 0; b < blocks; b++) {
            int from = b * block;
            int to = Math.min(k, from + block);
            for (int c = 0; c < n; c++) {
                for (int i = from; i < to; i++) {
                    column[i - from] = (float) wk[i * n + c];
                }
                scales[b * n + c] = bestScale(column, to - from, clipSteps);
            }
            for (int i = from; i < to; i++) {
                double d = u.get(i, i);
                for (int c = 0; c < n; c++) {
                    float s = scales[b * n + c];
                    int v = QuantMath.quantize((float) wk[i * n + c], s, 0, QuantType.INT4);
                    q[i * n + c] = v;
                    err[c] = (wk[i * n + c] - v * (double) s) / d;
                }
                for (int j = i + 1; j < k; j++) {
                    double f = u.get(i, j);
                    if (f == 0) {
                        continue;
                    }
                    int row = j * n;
                    for (int c = 0; c < n; c++) {
                        wk[row + c] -= f * err[c];
                    }
                }
            }
        }
        return new Rounded(q, scales, retries);
    }

    /** Upper-triangular U with {@code H⁻¹ = UᵀU}, or null when H is not positive definite. */
    private static DMatrixRMaj upperCholeskyOfInverse(DMatrixRMaj h) {
        LinearSolverDense<DMatrixRMaj> solver = LinearSolverFactory_DDRM.chol(h.numRows);
        if (!solver.setA(h.copy())) {
            return null;
        }
        DMatrixRMaj inv = new DMatrixRMaj(h.numRows, h.numCols);
        solver.invert(inv);
        CholeskyDecomposition_F64<DMatrixRMaj> upper = DecompositionFactory_DDRM.chol(h.numRows, false);
        if (!upper.decompose(inv)) {
            return null;
        }
        return upper.getT(null);
    }

    /** The symmetric int4 scale with the least squared error over {@code len} values (see mseBlockwise). */
    static float bestScale(float[] v, int len, int steps) {
        float amax = 0;
        for (int i = 0; i < len; i++) {
            amax = Math.max(amax, Math.abs(v[i]));
        }
        float base = QuantMath.symmetricScale(amax, QuantType.INT4);
        float best = base;
        double bestErr = Double.POSITIVE_INFINITY;
        for (int step = 0; step < steps; step++) {
            float s = base * (1f - 0.025f * step);
            double e = 0;
            for (int i = 0; i < len; i++) {
                double d = v[i] - QuantMath.quantize(v[i], s, 0, QuantType.INT4) * (double) s;
                e += d * d;
            }
            if (e < bestErr) {
                bestErr = e;
                best = s;
            }
        }
        return best;
    }

    /**
     * {@code XᵀX} of each named activation over the feeds: every position of the activation (all axes but the last)
     * is one row of X, the last axis the K features. Row-major [K, K].
     *
     * @param widths activation name -> K (the rows of the weight it multiplies)
     */
    static Map<String, double[]> hessians(OnnxModel model, Map<String, Integer> widths,
            List<Map<String, TensorData>> feeds) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : widths.entrySet()) {
            out.put(e.getKey(), new double[e.getValue() * e.getValue()]);
        }
        List<String> probed = new ArrayList<>();
        for (String a : widths.keySet()) {
            if (feeds.isEmpty() || !feeds.get(0).containsKey(a)) {
                probed.add(a);
            }
        }
        OnnxModel probe = OrtSupport.withExtraOutputs(model, probed);
        try (OrtSupport.Session s = OrtSupport.open(probe, 1)) {
            for (Map<String, TensorData> feed : feeds) {
                Map<String, float[]> values = new LinkedHashMap<>(probed.isEmpty() ? Map.of() : s.run(feed, probed));
                for (String a : widths.keySet()) {
                    if (!values.containsKey(a)) {
                        TensorData given = feed.get(a);
                        if (given == null) {
                            throw new IllegalArgumentException("calibration feed has no input '" + a + "'");
                        }
                        values.put(a, given.floats());
                    }
                }
                for (Map.Entry<String, float[]> e : values.entrySet()) {
                    accumulate(out.get(e.getKey()), e.getValue(), widths.get(e.getKey()));
                }
            }
        } catch (OrtException ex) {
            throw new IllegalStateException("ONNX Runtime failed while capturing int4 calibration activations: "
                    + ex.getMessage(), ex);
        }
        for (Map.Entry<String, double[]> e : out.entrySet()) {
            mirror(e.getValue(), widths.get(e.getKey()));
        }
        return out;
    }

    /** Adds {@code xᵀx} of every K-wide row of {@code x} to {@code h} (upper triangle, mirrored at the end). */
    static void accumulate(double[] h, float[] x, int k) {
        if (x.length % k != 0) {
            throw new IllegalStateException("activation has " + x.length + " values, not a multiple of " + k);
        }
        double[] row = new double[k];
        for (int r = 0; r < x.length / k; r++) {
            for (int i = 0; i < k; i++) {
                row[i] = x[r * k + i];
            }
            for (int i = 0; i < k; i++) {
                double xi = row[i];
                if (xi == 0) {
                    continue;
                }
                int off = i * k;
                for (int j = i; j < k; j++) {
                    h[off + j] += xi * row[j];
                }
            }
        }
    }

    /** Copies the upper triangle onto the lower one. */
    static void mirror(double[] h, int k) {
        for (int i = 0; i < k; i++) {
            for (int j = i + 1; j < k; j++) {
                h[j * k + i] = h[i * k + j];
            }
        }
    }
}
