package io.edgefleet.engine.quantize;

import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.recalib.Gram;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.CholeskyDecomposition_F64;

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
        double[] err = new double[block * n]; // the block's scaled rounding errors, one row per weight row
        float[] column = new float[block];
        for (int b = 0; b < blocks; b++) {
            int from = b * block;
            int to = Math.min(k, from + block);
            for (int c = 0; c < n; c++) {
                for (int i = from; i < to; i++) {
                    column[i - from] = (float) wk[i * n + c];
                }
                scales[b * n + c] = QuantMath.mseScale(column, 0, to - from, QuantType.INT4, clipSteps);
            }
            for (int i = from; i < to; i++) {
                double d = u.unsafe_get(i, i);
                int e = (i - from) * n;
                for (int c = 0; c < n; c++) {
                    float s = scales[b * n + c];
                    int v = QuantMath.quantize((float) wk[i * n + c], s, 0, QuantType.INT4);
                    q[i * n + c] = v;
                    err[e + c] = (wk[i * n + c] - v * (double) s) / d;
                }
                // rows of this block right away: the next row's rounding must see them
                for (int j = i + 1; j < to; j++) {
                    axpy(wk, j * n, -u.unsafe_get(i, j), err, e, n);
                }
            }
            // rows after the block in one sweep (lazy batch update): each row is read once per block, not per row
            for (int j = to; j < k; j++) {
                for (int i = from; i < to; i++) {
                    double f = u.unsafe_get(i, j);
                    if (f != 0) {
                        axpy(wk, j * n, -f, err, (i - from) * n, n);
                    }
                }
            }
        }
        return new Rounded(q, scales, retries);
    }

    /** {@code y[yOff..yOff+n) += a * x[xOff..xOff+n)}. */
    private static void axpy(double[] y, int yOff, double a, double[] x, int xOff, int n) {
        for (int c = 0; c < n; c++) {
            y[yOff + c] += a * x[xOff + c];
        }
    }

    /**
     * Upper-triangular U with {@code H⁻¹ = UᵀU}, or null when H is not positive definite. With J the exchange matrix
     * and {@code J H J = L Lᵀ} (one Cholesky of H with rows and columns reversed),
     * {@code H⁻¹ = (J L⁻ᵀ J)(J L⁻¹ J)}, and {@code J L⁻¹ J} is upper triangular with a positive diagonal: the factor
     * costs one Cholesky and one triangular inversion instead of a full inverse and a second Cholesky.
     */
    static DMatrixRMaj upperCholeskyOfInverse(DMatrixRMaj h) {
        int k = h.numRows;
        DMatrixRMaj reversed = new DMatrixRMaj(k, k);
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                reversed.unsafe_set(i, j, h.unsafe_get(k - 1 - i, k - 1 - j));
            }
        }
        CholeskyDecomposition_F64<DMatrixRMaj> chol = DecompositionFactory_DDRM.chol(k, true);
        if (!chol.decompose(reversed)) {
            return null;
        }
        DMatrixRMaj l = chol.getT(null);
        for (int i = 0; i < k; i++) {
            if (!(l.unsafe_get(i, i) > 0)) {
                return null;
            }
        }
        double[] inv = invertLower(l.data, k);
        DMatrixRMaj u = new DMatrixRMaj(k, k);
        for (int i = 0; i < k; i++) {
            for (int j = i; j < k; j++) {
                u.unsafe_set(i, j, inv[(k - 1 - i) * k + (k - 1 - j)]);
            }
        }
        return u;
    }

    /**
     * Inverse of a lower-triangular row-major matrix by forward substitution a row at a time: row i of
     * {@code X = L⁻¹} is {@code (eᵢ - Σ_{m<i} L[i][m] X[m]) / L[i][i]}, every term a contiguous row update, which
     * keeps a 1536-wide inverse well inside the cache-friendly path (a column-wise inverse was 10x slower).
     */
    static double[] invertLower(double[] l, int k) {
        double[] x = new double[k * k];
        for (int i = 0; i < k; i++) {
            int row = i * k;
            x[row + i] = 1;
            for (int m = 0; m < i; m++) {
                double a = l[row + m];
                if (a != 0) {
                    axpy(x, row, -a, x, m * k, m + 1); // X[m] is zero past column m
                }
            }
            double d = l[row + i];
            for (int j = 0; j <= i; j++) {
                x[row + j] /= d;
            }
        }
        return x;
    }

    /**
     * {@code XᵀX} of each named activation over the feeds: every position of the activation (all axes but the last)
     * is one row of X, the last axis the K features. Row-major [K, K]. Accumulated by {@link Gram} like the pruner's
     * Gram matrices: float32 products of blocks of rows, summed in double, so an entry carries float32 rounding of
     * about 2e-7 of {@code Σ|x_ri x_rj|} (at most rows·2⁻²⁴ of it; see the test), where {@link #round} damps H by
     * 1% of its mean diagonal.
     *
     * @param widths activation name -> K (the rows of the weight it multiplies)
     */
    static Map<String, double[]> hessians(OnnxModel model, Map<String, Integer> widths,
            List<Map<String, TensorData>> feeds) {
        Map<String, Gram> grams = new LinkedHashMap<>();
        widths.forEach((name, k) -> grams.put(name, new Gram(k, 0)));
        FeedActivations.forEach(model, widths.keySet(), feeds, (name, x) -> addRows(grams.get(name), x));
        Map<String, double[]> out = new LinkedHashMap<>();
        grams.forEach((name, gram) -> out.put(name, gram.xtx().data));
        return out;
    }

    /** Adds every {@link Gram#features()}-wide row of {@code x}. */
    private static void addRows(Gram gram, float[] x) {
        int k = gram.features();
        if (x.length % k != 0) {
            throw new IllegalStateException("activation has " + x.length + " values, not a multiple of " + k);
        }
        for (int off = 0; off < x.length; off += k) {
            gram.add(x, off, null, 0);
        }
    }
}
