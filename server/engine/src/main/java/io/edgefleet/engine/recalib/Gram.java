package io.edgefleet.engine.recalib;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * Streaming normal equations: accumulates {@code XᵀX} (features x features) and optionally {@code XᵀY} from rows
 * handed in one at a time, buffering a block of rows so the products run as one matrix multiplication per block
 * instead of rank-one updates. Each block's product is float32 in ONNX Runtime ({@link BlockProducts}, about twenty
 * times EJML's double product); the blocks are summed in double, because a sum over hundreds of thousands of rows
 * in float would lose the small eigenvalues of an already badly conditioned matrix. Solves are in double.
 */
public final class Gram {
    private static final int BLOCK = 1024;

    private final int features;
    private final int targets;
    private final DMatrixRMaj xtx;
    private final DMatrixRMaj xty;
    private final float[] xBlock;
    private final float[] yBlock;
    private int buffered;
    private long rows;

    /** @param targets number of target columns, 0 for a Gram matrix alone (Hessian of a layer's input) */
    public Gram(int features, int targets) {
        if (features <= 0) {
            throw new IllegalArgumentException("features must be > 0");
        }
        this.features = features;
        this.targets = targets;
        this.xtx = new DMatrixRMaj(features, features);
        this.xty = targets > 0 ? new DMatrixRMaj(features, targets) : null;
        this.xBlock = new float[BLOCK * features];
        this.yBlock = targets > 0 ? new float[BLOCK * targets] : null;
    }

    public int features() {
        return features;
    }

    public long rows() {
        return rows + buffered;
    }

    /** Adds one row; {@code x} has {@link #features()} entries from {@code xOff}, {@code y} the targets or null. */
    public void add(float[] x, int xOff, float[] y, int yOff) {
        System.arraycopy(x, xOff, xBlock, buffered * features, features);
        if (targets > 0) {
            System.arraycopy(y, yOff, yBlock, buffered * targets, targets);
        }
        if (++buffered == BLOCK) {
            flush();
        }
    }

    /** Adds one row given as doubles (used when a row is assembled with an intercept column). */
    public void add(double[] x, double[] y) {
        int base = buffered * features;
        for (int i = 0; i < features; i++) {
            xBlock[base + i] = (float) x[i];
        }
        if (targets > 0) {
            int yb = buffered * targets;
            for (int i = 0; i < targets; i++) {
                yBlock[yb + i] = (float) y[i];
            }
        }
        if (++buffered == BLOCK) {
            flush();
        }
    }

    private void flush() {
        if (buffered == 0) {
            return;
        }
        float[][] p = BlockProducts.of(xBlock, buffered, features, yBlock, targets);
        addInto(xtx.data, p[0]);
        if (targets > 0) {
            addInto(xty.data, p[1]);
        }
        rows += buffered;
        buffered = 0;
    }

    private static void addInto(double[] acc, float[] block) {
        for (int i = 0; i < acc.length; i++) {
            acc[i] += block[i];
        }
    }

    /** {@code XᵀX} so far (a live matrix: copy before changing it). */
    public DMatrixRMaj xtx() {
        flush();
        return xtx;
    }

    public DMatrixRMaj xty() {
        flush();
        if (xty == null) {
            throw new IllegalStateException("this Gram was created without targets");
        }
        return xty;
    }

    /**
     * Solves the ridge-regularized normal equations {@code (XᵀX + λI) W = XᵀY} with {@code λ = ridge * mean(diag
     * XᵀX)} (scale-free damping), by Cholesky; falls back to a pseudo-inverse when the system is singular.
     *
     * @return W as {@code features x targets}
     */
    public DMatrixRMaj solve(double ridge) {
        return solve(xtx(), xty(), ridge);
    }

    public static DMatrixRMaj solve(DMatrixRMaj a, DMatrixRMaj b, double ridge) {
        return solve(a, b, ridge, null);
    }

    /**
     * Ridge regression shrunk toward {@code prior} instead of toward zero: minimises
     * {@code ||Y - XW||² + λ||W - prior||²}, i.e. solves {@code (XᵀX + λI) W = XᵀY + λ prior}. With few calibration
     * rows, or inputs that never fire, the weights the data cannot determine then stay what they were.
     *
     * @param prior features x targets, or null for plain ridge
     */
    public static DMatrixRMaj solve(DMatrixRMaj a, DMatrixRMaj b, double ridge, DMatrixRMaj prior) {
        DMatrixRMaj damped = damped(a, ridge);
        if (prior != null) {
            double lambda = damped.get(0, 0) - a.get(0, 0);
            DMatrixRMaj rhs = b.copy();
            for (int i = 0; i < rhs.getNumElements(); i++) {
                rhs.data[i] += lambda * prior.data[i];
            }
            b = rhs;
        }
        DMatrixRMaj x = new DMatrixRMaj(a.numCols, b.numCols);
        LinearSolverDense<DMatrixRMaj> chol = LinearSolverFactory_DDRM.symmPosDef(a.numCols);
        if (chol.setA(damped.copy())) {
            chol.solve(b, x);
            if (allFinite(x)) {
                return x;
            }
        }
        LinearSolverDense<DMatrixRMaj> pinv = LinearSolverFactory_DDRM.pseudoInverse(true);
        if (!pinv.setA(damped)) {
            throw new IllegalStateException("normal equations could not be solved (" + a.numCols + " features)");
        }
        pinv.solve(b, x);
        return x;
    }

    /** {@code a + ridge * mean(diag a) * I}, plus a tiny absolute floor so an all-zero input stays solvable. */
    public static DMatrixRMaj damped(DMatrixRMaj a, double ridge) {
        DMatrixRMaj d = a.copy();
        int n = a.numCols;
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += a.get(i, i);
        }
        mean /= n;
        double lambda = ridge * mean + 1e-8;
        for (int i = 0; i < n; i++) {
            d.add(i, i, lambda);
        }
        return d;
    }

    static boolean allFinite(DMatrixRMaj m) {
        for (int i = 0; i < m.getNumElements(); i++) {
            if (!Double.isFinite(m.data[i])) {
                return false;
            }
        }
        return true;
    }
}
