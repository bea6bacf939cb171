package io.edgefleet.engine.recalib;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * Improves a sparsity mask row by row with exact swaps: one pruned input comes back, one kept input goes, and the
 * row's kept weights are refit exactly on the new support. SparseGPT fixes a weight's fate when its block of columns
 * is processed, by the costs of the partly updated row at that moment, and never revisits it; with correlated inputs
 * such a mask can be far from the best one of its size. Here the objective is the row's least-squares error with
 * its kept weights at their optimum, {@code wᵀHw - 2wᵀb} at {@code w_S = H_SS⁻¹ b_S} (H the centred input Gram, so
 * the intercept is refit too), and every swap is scored exactly before it is made.
 *
 * <p>For kept set S, adding input p lowers the error by {@code g_p² / s_p} with {@code g_p = b_p - H_pS w_S} and
 * Schur complement {@code s_p = H_pp - H_pS H_SS⁻¹ H_Sp}; afterwards removing q raises it by {@code w'_q² / [H'⁻¹]_qq}
 * (optimal brain surgeon on the enlarged set), and both follow from {@code M = H_SS⁻¹ H_SZ}: with {@code t = g_p/s_p},
 * {@code w'_q = w_q - M_qp t} and {@code [H'⁻¹]_qq = [H_SS⁻¹]_qq + M_qp² / s_p}. So all pairs together are scored
 * in O(|S|·|Z|), and a swap updates {@code H_SS⁻¹}, M and w by one bordering and one rank-one downdate instead of a new
 * inversion. Each round makes the best swap of the row while it lowers the error; the row's zero count never changes.
 */
final class MaskSwapSearch {
    private MaskSwapSearch() {
    }

    /**
     * @param weights the row-major weights with the searched masks (kept inputs non-zero), each row refit exactly on
     *     its final support
     * @param before the summed error less {@code Σ(y - ȳ)²}, {@code wᵀHw - 2bᵀw}, of the rows refit on their
     *     starting masks
     * @param after the same on the final masks
     * @param swaps swaps made over all rows
     */
    record Outcome(float[] weights, double before, double after, int swaps) {
    }

    /**
     * @param h the centred input Gram, f x f
     * @param b centred input-target products, f x outputs
     * @param lambda ridge added to H's diagonal for the fits (the refit's smallest), so every support is solvable;
     *     swaps are scored on the ridge objective {@code wᵀ(H + λI)w - 2bᵀw}
     * @param mask the starting weights, outputs x f row-major; their zeros are the pruned inputs
     * @param maxSwaps swap rounds per row at most
     */
    static Outcome search(DMatrixRMaj h, DMatrixRMaj b, double lambda, float[] mask, int outputs, int maxSwaps) {
        int f = h.numCols;
        DMatrixRMaj damped = h.copy();
        for (int i = 0; i < f; i++) {
            damped.add(i, i, lambda);
        }
        float[] out = new float[outputs * f];
        double before = 0;
        double after = 0;
        int swaps = 0;
        for (int r = 0; r < outputs; r++) {
            Row row = new Row(damped, b, r, mask, f);
            double start = row.objective();
            double startError = row.error(lambda);
            int made = 0;
            while (made < maxSwaps && row.swapIfBetter()) {
                made++;
            }
            if (made > 0) {
                row.settle();
                if (!(row.objective() < start)) {
                    row = new Row(damped, b, r, mask, f);
                    made = 0;
                }
            }
            before += startError;
            after += row.error(lambda);
            swaps += made;
            row.writeTo(out, r * f);
        }
        return new Outcome(out, before, after, swaps);
    }

    /** One output row: its kept set S, pruned set Z, and the quantities the swap scores need. */
    private static final class Row {
        private final double[] hd;
        private final int f;
        private final double[] b;
        private final int k;
        private final int m;
        private final int[] kept;
        private final int[] pruned;
        /** {@code H_SS⁻¹} over the k kept slots plus one spare, stride k + 1. */
        private final double[] inv;
        /** {@code H_SS⁻¹ H_SZ}: k + 1 slots by m pruned inputs. */
        private final double[] mz;
        private final double[] w;
        private final double[] s;
        private final double[] g;

        Row(DMatrixRMaj h, DMatrixRMaj bAll, int r, float[] mask, int f) {
            this.hd = h.data;
            this.f = f;
            this.b = new double[f];
            for (int i = 0; i < f; i++) {
                b[i] = bAll.get(i, r);
            }
            int nk = 0;
            for (int i = 0; i < f; i++) {
                nk += mask[r * f + i] != 0f ? 1 : 0;
            }
            k = nk;
            m = f - nk;
            kept = new int[k + 1];
            pruned = new int[m];
            int a = 0;
            int z = 0;
            for (int i = 0; i < f; i++) {
                if (mask[r * f + i] != 0f) {
                    kept[a++] = i;
                } else {
                    pruned[z++] = i;
                }
            }
            inv = new double[(k + 1) * (k + 1)];
            mz = new double[(k + 1) * m];
            w = new double[k + 1];
            s = new double[m];
            g = new double[m];
            rebuild();
        }

        /** Computes {@code H_SS⁻¹}, M, w, s and g from the current sets. */
        private void rebuild() {
            if (k == 0) {
                scores();
                return;
            }
            LinearSolverDense<DMatrixRMaj> chol = factor();
            DMatrixRMaj hInv = new DMatrixRMaj(k, k);
            chol.invert(hInv);
            DMatrixRMaj hsz = new DMatrixRMaj(k, m);
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < m; j++) {
                    hsz.set(i, j, hd[kept[i] * f + pruned[j]]);
                }
            }
            DMatrixRMaj prod = new DMatrixRMaj(k, m);
            CommonOps_DDRM.mult(hInv, hsz, prod);
            for (int i = 0; i < k; i++) {
                System.arraycopy(hInv.data, i * k, inv, i * (k + 1), k);
                System.arraycopy(prod.data, i * m, mz, i * m, m);
                double v = 0;
                for (int j = 0; j < k; j++) {
                    v += hInv.data[i * k + j] * b[kept[j]];
                }
                w[i] = v;
            }
            scores();
        }

        /** Solves w afresh on the current support, free of the updates' round-off (M, s and g are left stale). */
        void settle() {
            DMatrixRMaj bs = new DMatrixRMaj(k, 1);
            for (int i = 0; i < k; i++) {
                bs.set(i, 0, b[kept[i]]);
            }
            DMatrixRMaj x = new DMatrixRMaj(k, 1);
            factor().solve(bs, x);
            System.arraycopy(x.data, 0, w, 0, k);
        }

        /** The Cholesky factorization of {@code H_SS}. */
        private LinearSolverDense<DMatrixRMaj> factor() {
            DMatrixRMaj hss = new DMatrixRMaj(k, k);
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                    hss.set(i, j, hd[kept[i] * f + kept[j]]);
                }
            }
            LinearSolverDense<DMatrixRMaj> chol = LinearSolverFactory_DDRM.symmPosDef(k);
            if (!chol.setA(hss)) {
                throw new IllegalStateException("the damped input Gram is not positive definite on a row's support");
            }
            return chol;
        }

        /** s and g of every pruned input from M and w (H is symmetric: row {@code kept[a]} holds {@code H_pS}). */
        private void scores() {
            for (int j = 0; j < m; j++) {
                s[j] = hd[pruned[j] * f + pruned[j]];
                g[j] = b[pruned[j]];
            }
            for (int a = 0; a < k; a++) {
                int row = kept[a] * f;
                double wa = w[a];
                for (int j = 0; j < m; j++) {
                    double hpa = hd[row + pruned[j]];
                    s[j] -= hpa * mz[a * m + j];
                    g[j] -= hpa * wa;
                }
            }
        }

        /** {@code wᵀHw - 2bᵀw} without the ridge: {@code -bᵀw - λ|w|²} at the ridge fit. */
        double error(double lambda) {
            double v = objective();
            for (int a = 0; a < k; a++) {
                v -= lambda * w[a] * w[a];
            }
            return v;
        }

        /** {@code -b_Sᵀ w_S}: the ridge objective at the row's fit. */
        double objective() {
            double v = 0;
            for (int a = 0; a < k; a++) {
                v -= b[kept[a]] * w[a];
            }
            return v;
        }

        /** Makes the swap that lowers the objective most, if any does; returns whether one was made. */
        boolean swapIfBetter() {
            if (k == 0 || m == 0) {
                return false;
            }
            double best = 0;
            int bestA = -1;
            int bestJ = -1;
            int stride = k + 1;
            double[] t = new double[m];
            double[] gain = new double[m];
            double[] invS = new double[m];
            for (int j = 0; j < m; j++) {
                // An input with no spread left given S (e.g. one that is always zero) cannot help.
                invS[j] = s[j] > 0 ? 1 / s[j] : 0;
                t[j] = g[j] * invS[j];
                gain[j] = s[j] > 0 ? g[j] * t[j] : Double.NEGATIVE_INFINITY;
            }
            for (int a = 0; a < k; a++) {
                double da = inv[a * stride + a];
                double wa = w[a];
                int off = a * m;
                for (int j = 0; j < m; j++) {
                    double mq = mz[off + j];
                    double wq = wa - mq * t[j];
                    double delta = wq * wq / (da + mq * mq * invS[j]) - gain[j];
                    if (delta < best) {
                        best = delta;
                        bestA = a;
                        bestJ = j;
                    }
                }
            }
            // Swaps worth less than round-off in the objective are not made.
            if (bestA < 0 || -best <= 1e-12 * Math.abs(objective())) {
                return false;
            }
            swap(bestA, bestJ);
            return true;
        }

        /** Brings pruned input {@code pruned[j]} into the spare slot k, then drops slot {@code a} and reuses it. */
        private void swap(int a, int j) {
            int stride = k + 1;
            int p = pruned[j];
            double sp = s[j];
            double t = g[j] / sp;
            double[] mp = new double[k];
            for (int i = 0; i < k; i++) {
                mp[i] = mz[i * m + j];
            }
            // Add p: bordered inverse, M gains p's row, w moves along M_p.
            double[] c = new double[m];
            for (int z = 0; z < m; z++) {
                c[z] = hd[p * f + pruned[z]];
            }
            for (int i = 0; i < k; i++) {
                double hpi = hd[p * f + kept[i]];
                int off = i * m;
                for (int z = 0; z < m; z++) {
                    c[z] -= hpi * mz[off + z];
                }
            }
            for (int z = 0; z < m; z++) {
                c[z] /= sp;
            }
            for (int i = 0; i < k; i++) {
                for (int l = 0; l < k; l++) {
                    inv[i * stride + l] += mp[i] * mp[l] / sp;
                }
                inv[i * stride + k] = -mp[i] / sp;
                inv[k * stride + i] = -mp[i] / sp;
                for (int z = 0; z < m; z++) {
                    mz[i * m + z] -= mp[i] * c[z];
                }
                w[i] -= mp[i] * t;
            }
            inv[k * stride + k] = 1 / sp;
            System.arraycopy(c, 0, mz, k * m, m);
            w[k] = t;
            kept[k] = p;
            // Remove slot a: rank-one downdate of the inverse, M and w by the optimal brain surgeon step.
            double dq = inv[a * stride + a];
            double[] col = new double[k + 1];
            for (int i = 0; i <= k; i++) {
                col[i] = inv[i * stride + a];
            }
            double wa = w[a];
            for (int i = 0; i <= k; i++) {
                if (i == a) {
                    continue;
                }
                double ci = col[i] / dq;
                for (int l = 0; l <= k; l++) {
                    inv[i * stride + l] -= ci * col[l];
                }
                for (int z = 0; z < m; z++) {
                    mz[i * m + z] -= ci * mz[a * m + z];
                }
                w[i] -= ci * wa;
            }
            int q = kept[a];
            for (int i = 0; i <= k; i++) {
                mz[i * m + j] = -col[i] / dq; // H''⁻¹ H_{S'',q}: the removed input's column of the old inverse
            }
            // Slot k moves into slot a.
            for (int i = 0; i <= k; i++) {
                inv[a * stride + i] = inv[k * stride + i];
                inv[i * stride + a] = inv[i * stride + k];
            }
            inv[a * stride + a] = inv[k * stride + k];
            System.arraycopy(mz, k * m, mz, a * m, m);
            w[a] = w[k];
            kept[a] = p;
            pruned[j] = q;
            scores();
        }

        void writeTo(float[] out, int offset) {
            for (int a = 0; a < k; a++) {
                out[offset + kept[a]] = (float) w[a];
            }
        }
    }
}
