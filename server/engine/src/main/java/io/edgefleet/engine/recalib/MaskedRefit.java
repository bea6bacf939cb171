package io.edgefleet.engine.recalib;

import java.util.Arrays;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * Least squares under a sparsity mask: each output row is refit on its own support (the inputs whose weight is kept
 * non-zero, plus the intercept), so pruned weights stay exactly zero while the kept ones absorb the removed ones'
 * contribution. Rows with the same support share one factorization.
 */
public final class MaskedRefit {
    private MaskedRefit() {
    }

    /**
     * @param a {@code [X 1]ᵀ[X 1]}, (features+1) squared; the last row/column is the intercept
     * @param b {@code [X 1]ᵀ Y}, (features+1) x outputs
     * @param weights current weights {@code outputs x features}, row-major; zeros define the mask, and the kept values
     *     are the prior the ridge term shrinks toward
     * @param biasOut current intercepts on entry (the prior), fitted ones on return
     * @return new weights (same layout, zeros kept)
     */
    public static float[] solve(DMatrixRMaj a, DMatrixRMaj b, float[] weights, int outputs, double ridge,
            float[] biasOut) {
        int f = a.numCols - 1;
        float[] out = new float[weights.length];
        java.util.Map<String, int[]> supports = new java.util.HashMap<>();
        java.util.Map<String, java.util.List<Integer>> rowsBySupport = new java.util.LinkedHashMap<>();
        for (int o = 0; o < outputs; o++) {
            int[] s = support(weights, o, f);
            String key = Arrays.toString(s);
            supports.putIfAbsent(key, s);
            rowsBySupport.computeIfAbsent(key, k -> new java.util.ArrayList<>()).add(o);
        }
        for (var e : rowsBySupport.entrySet()) {
            int[] s = supports.get(e.getKey());
            int k = s.length;
            DMatrixRMaj sub = CommonOps_DDRM.extract(a, s, k, s, k, null);
            java.util.List<Integer> rows = e.getValue();
            DMatrixRMaj rhs = new DMatrixRMaj(k, rows.size());
            for (int i = 0; i < k; i++) {
                for (int c = 0; c < rows.size(); c++) {
                    rhs.set(i, c, b.get(s[i], rows.get(c)));
                }
            }
            DMatrixRMaj prior = new DMatrixRMaj(k, rows.size());
            for (int c = 0; c < rows.size(); c++) {
                int o = rows.get(c);
                for (int i = 0; i < k - 1; i++) {
                    prior.set(i, c, weights[o * f + s[i]]);
                }
                prior.set(k - 1, c, biasOut[o]);
            }
            DMatrixRMaj x = Gram.solve(sub, rhs, ridge, prior);
            for (int c = 0; c < rows.size(); c++) {
                int o = rows.get(c);
                for (int i = 0; i < k - 1; i++) {
                    out[o * f + s[i]] = (float) x.get(i, c);
                }
                biasOut[o] = (float) x.get(k - 1, c);
            }
        }
        return out;
    }

    /** Indices of the non-zero weights of row {@code o}, then the intercept index {@code f}. */
    private static int[] support(float[] w, int o, int f) {
        int n = 0;
        for (int i = 0; i < f; i++) {
            if (w[o * f + i] != 0f) {
                n++;
            }
        }
        int[] s = new int[n + 1];
        int k = 0;
        for (int i = 0; i < f; i++) {
            if (w[o * f + i] != 0f) {
                s[k++] = i;
            }
        }
        s[n] = f;
        return s;
    }

    /** Whether any weight is exactly zero (a sparsity pattern worth keeping). */
    public static boolean hasZeros(float[] w) {
        for (float v : w) {
            if (v == 0f) {
                return true;
            }
        }
        return false;
    }
}
