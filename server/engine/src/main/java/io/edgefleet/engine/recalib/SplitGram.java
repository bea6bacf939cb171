package io.edgefleet.engine.recalib;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * Normal equations of {@code [X 1] -> Y} accumulated in two parts: every fifth calibration sample is held out. The
 * ridge strength is then chosen by the error on the held-out samples ({@link #fit}), and a refit that would not
 * lower that error is not made: with few rows per feature (a fully connected head fed by a few hundred samples) an
 * unregularized refit interpolates the calibration set and generalizes worse than the weights it replaces.
 */
public final class SplitGram {
    /** Candidate ridge strengths, relative to the mean diagonal of XᵀX. */
    static final double[] GRID = {1e-4, 1e-3, 1e-2, 1e-1, 1, 10};
    private static final int HOLD_EVERY = 5;

    private final int features;
    private final int targets;
    private Gram train;
    private Gram hold;
    private final double[] yyTrain;
    private final double[] yyHold;
    // Frozen sums, built on first use.
    private DMatrixRMaj aTrain;
    private DMatrixRMaj bTrain;
    private DMatrixRMaj aHold;
    private DMatrixRMaj bHold;
    private long trainRows;
    private long holdRows;

    public SplitGram(int features, int targets) {
        this.features = features;
        this.targets = targets;
        this.train = new Gram(features, targets);
        this.hold = new Gram(features, targets);
        this.yyTrain = new double[targets];
        this.yyHold = new double[targets];
    }

    private SplitGram(int features, int targets, DMatrixRMaj aTrain, DMatrixRMaj bTrain, DMatrixRMaj aHold,
            DMatrixRMaj bHold, double[] yyTrain, double[] yyHold, long trainRows, long holdRows) {
        this.features = features;
        this.targets = targets;
        this.aTrain = aTrain;
        this.bTrain = bTrain;
        this.aHold = aHold;
        this.bHold = bHold;
        this.yyTrain = yyTrain;
        this.yyHold = yyHold;
        this.trainRows = trainRows;
        this.holdRows = holdRows;
    }

    public int features() {
        return features;
    }

    /** Adds a row of sample {@code sample}; {@code x} already holds the intercept column. */
    public void add(int sample, double[] x, double[] y) {
        if (train == null) {
            throw new IllegalStateException("rows cannot be added after the sums were read");
        }
        boolean held = sample % HOLD_EVERY == HOLD_EVERY - 1;
        double[] yy = held ? yyHold : yyTrain;
        for (int i = 0; i < targets; i++) {
            yy[i] += y[i] * y[i];
        }
        (held ? hold : train).add(x, y);
    }

    private void freeze() {
        if (train != null) {
            aTrain = train.xtx();
            bTrain = train.xty();
            aHold = hold.xtx();
            bHold = hold.xty();
            trainRows = train.rows();
            holdRows = hold.rows();
            train = null;
            hold = null;
        }
    }

    public long rows() {
        freeze();
        return trainRows + holdRows;
    }

    /** {@code [X 1]ᵀ[X 1]} over all rows (a new matrix). */
    public DMatrixRMaj xtx() {
        freeze();
        DMatrixRMaj a = aTrain.copy();
        CommonOps_DDRM.addEquals(a, aHold);
        return a;
    }

    public DMatrixRMaj xty() {
        freeze();
        DMatrixRMaj b = bTrain.copy();
        CommonOps_DDRM.addEquals(b, bHold);
        return b;
    }

    public double yy() {
        double s = 0;
        for (int i = 0; i < targets; i++) {
            s += yyTrain[i] + yyHold[i];
        }
        return s;
    }

    /**
     * The sums over the training rows alone (the samples not held out); the matrices are shared, not copies. A fit
     * made from them leaves the held-out samples fair judges of it, e.g. as the prior of a later {@link #fit}.
     */
    public Part training() {
        freeze();
        double yy = 0;
        for (double v : yyTrain) {
            yy += v;
        }
        return new Part(aTrain, bTrain, yy, trainRows);
    }

    /** Normal-equation sums of some rows: {@code [X 1]ᵀ[X 1]}, {@code [X 1]ᵀY}, {@code Σy²} and the row count. */
    public record Part(DMatrixRMaj xtx, DMatrixRMaj xty, double yy, long rows) {
    }

    /** The same rows with only target columns {@code [from, to)}: one layer of several fitted on a shared input. */
    public SplitGram targets(int from, int to) {
        freeze();
        return new SplitGram(features, to - from, aTrain, CommonOps_DDRM.extract(bTrain, 0, features, from, to), aHold,
                CommonOps_DDRM.extract(bHold, 0, features, from, to),
                java.util.Arrays.copyOfRange(yyTrain, from, to), java.util.Arrays.copyOfRange(yyHold, from, to),
                trainRows, holdRows);
    }

    /** Solves normal equations for one ridge strength: (a, b, ridge) to a (features x targets) solution. */
    @FunctionalInterface
    public interface Solver {
        DMatrixRMaj solve(DMatrixRMaj a, DMatrixRMaj b, double ridge);
    }

    /**
     * @param solution the weights fitted on all rows with the chosen ridge, or null when no ridge beat the current
     *     weights on the held-out samples
     * @param ridge the chosen strength
     * @param holdoutBefore relative held-out error of the current weights
     * @param holdoutAfter relative held-out error of the chosen fit (trained without the held-out rows)
     */
    public record Fit(DMatrixRMaj solution, double ridge, double holdoutBefore, double holdoutAfter) {
    }

    /**
     * Picks the ridge with the lowest held-out error, then refits on all rows with it.
     *
     * @param current the current weights as (features x targets), the baseline to beat; null to always refit
     * @param minimumRidge the smallest strength tried, and the one used when no sample could be held out
     */
    public Fit fit(DMatrixRMaj current, Solver solver, double minimumRidge) {
        freeze();
        if (holdRows == 0 || trainRows == 0) {
            return new Fit(solver.solve(xtx(), xty(), minimumRidge), minimumRidge, Double.NaN, Double.NaN);
        }
        double yh = 0;
        for (double v : yyHold) {
            yh += v;
        }
        double norm = Math.max(yh, 1e-30);
        double before = current == null ? Double.POSITIVE_INFINITY
                : LeastSquaresReconstruction.residual(aHold, bHold, yh, current) / norm;
        double best = Double.POSITIVE_INFINITY;
        double bestRidge = minimumRidge;
        for (double r : GRID) {
            if (r < minimumRidge) {
                continue;
            }
            DMatrixRMaj w = solver.solve(aTrain, bTrain, r);
            double e = LeastSquaresReconstruction.residual(aHold, bHold, yh, w) / norm;
            if (e < best) {
                best = e;
                bestRidge = r;
            }
        }
        if (!(best < before)) {
            return new Fit(null, bestRidge, before, best);
        }
        return new Fit(solver.solve(xtx(), xty(), bestRidge), bestRidge, before, best);
    }
}
