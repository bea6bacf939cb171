package io.edgefleet.engine.prune;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.recalib.ChannelMap;
import io.edgefleet.engine.recalib.LeastSquaresReconstruction;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

/**
 * An iterative magnitude schedule: raise the sparsity a step at a time, recalibrate (a least-squares refit that keeps
 * the zeros), evaluate, and stop at the accuracy budget, returning the last model that stayed within it. Masks only
 * grow: the weights zeroed at one step are the smallest at the next, and the refit keeps them at zero.
 *
 * <p>The budget must be checked on samples the refits never saw: a least-squares refit fits its own data well, so
 * checking on it accepts steps that lose accuracy elsewhere (on digits-mlp, checking on the calibration set itself
 * over-pruned to -0.74 points on validation against a 0.5-point budget). {@link #split} carves a held-out check part
 * out of the calibration data for that.
 */
public final class IterativePruning {
    private IterativePruning() {
    }

    /**
     * @param step sparsity added per step
     * @param maxSparsity the schedule stops there at the latest
     * @param budgetPoints accuracy the model may lose, in points (top-1 with labels, top-1 agreement with the float
     *     model without)
     * @param recalibrate refit after each step (otherwise plain magnitude pruning)
     */
    public record Options(double step, double maxSparsity, double budgetPoints, MagnitudePruner.Scope scope,
            boolean recalibrate, LeastSquaresReconstruction.Options ls) {
        public Options {
            if (!(step > 0 && step < 1) || !(maxSparsity > 0 && maxSparsity < 1)) {
                throw new IllegalArgumentException("step and maxSparsity must be in (0, 1)");
            }
            if (budgetPoints < 0) {
                throw new IllegalArgumentException("budgetPoints must be >= 0");
            }
        }

        public static Options defaults(double budgetPoints) {
            return new Options(0.1, 0.95, budgetPoints, MagnitudePruner.Scope.PER_LAYER, true,
                    LeastSquaresReconstruction.Options.defaults());
        }

        public Options withRecalibrate(boolean on) {
            return new Options(step, maxSparsity, budgetPoints, scope, on, ls);
        }

        public Options withStep(double s) {
            return new Options(s, maxSparsity, budgetPoints, scope, recalibrate, ls);
        }
    }

    /** One step: its sparsity, the score lost against the float model (points) and whether it was kept. */
    public record Step(double sparsity, double lostPoints, boolean accepted) {
    }

    public record Result(OnnxModel model, double sparsity, List<Step> steps) {
    }

    /**
     * Calibration data cut in two by a seeded shuffle: {@code fit} for the refits, {@code check} for the budget.
     *
     * @param fitRows sample indices of the original data in {@code fit}, ascending
     * @param checkRows sample indices in {@code check}, ascending; disjoint from {@code fitRows}, together all samples
     */
    public record Split(Dataset fit, Dataset check, int[] fitRows, int[] checkRows) {
        public Split {
            fitRows = fitRows.clone();
            checkRows = checkRows.clone();
        }

        @Override
        public int[] fitRows() {
            return fitRows.clone();
        }

        @Override
        public int[] checkRows() {
            return checkRows.clone();
        }
    }

    /**
     * Splits {@code data} deterministically: the samples are shuffled with {@code new Random(seed)}, the first
     * {@code round(checkFraction * n)} go to the check part, the rest to the fit part. Both parts are built from
     * their own index lists only, so no check sample can reach a refit. Not stratified: with few samples per class,
     * prefer a larger check part over a lucky one.
     *
     * @throws IllegalArgumentException when {@code checkFraction} is not in (0, 1) or leaves a part empty
     */
    public static Split split(Dataset data, double checkFraction, long seed) {
        if (!(checkFraction > 0 && checkFraction < 1)) {
            throw new IllegalArgumentException("checkFraction must be in (0, 1), got " + checkFraction);
        }
        int n = data.size();
        int check = (int) Math.round(checkFraction * n);
        if (check < 1 || check > n - 1) {
            throw new IllegalArgumentException("checkFraction " + checkFraction + " of " + n + " calibration samples "
                    + "leaves " + check + " to check the budget and " + (n - check) + " to refit; both need at least "
                    + "one (more data, or a fraction closer to 0.5)");
        }
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed));
        int[] checkRows = order.subList(0, check).stream().mapToInt(Integer::intValue).sorted().toArray();
        int[] fitRows = order.subList(check, n).stream().mapToInt(Integer::intValue).sorted().toArray();
        return new Split(data.select(fitRows, "fit"), data.select(checkRows, "check"), fitRows, checkRows);
    }

    /** {@link #magnitude(OnnxModel, Dataset, Dataset, Options, Consumer)} without a step listener. */
    public static Result magnitude(OnnxModel model, Dataset calibration, Dataset evaluation, Options o) {
        return magnitude(model, calibration, evaluation, o, s -> { });
    }

    /**
     * @param calibration data for the refits
     * @param evaluation data the budget is checked on (labels: top-1; otherwise agreement with the float model);
     *     keep it apart from the calibration data (see {@link #split}) and from any final validation set
     * @param onStep told about every step as soon as it is evaluated (progress, cancellation)
     */
    public static Result magnitude(OnnxModel model, Dataset calibration, Dataset evaluation, Options o,
            Consumer<Step> onStep) {
        if (o.recalibrate() && calibration == null) {
            throw new IllegalArgumentException("recalibration needs calibration data");
        }
        Accuracy base = Accuracy.measure(model, null, evaluation, evaluation.size());
        OnnxModel current = model;
        OnnxModel kept = model;
        double keptSparsity = 0;
        List<Step> steps = new ArrayList<>();
        for (double s = o.step(); s <= o.maxSparsity() + 1e-9; s += o.step()) {
            double sparsity = Math.min(s, o.maxSparsity());
            OnnxModel next = MagnitudePruner.prune(current, MagnitudePruner.Options.unstructured(sparsity, o.scope()),
                    null).model();
            if (o.recalibrate()) {
                next = LeastSquaresReconstruction.reconstruct(model, next, ChannelMap.IDENTITY, calibration,
                        o.ls().withPreserveZeros(true), null).model();
            }
            Accuracy a = Accuracy.measure(next, model, evaluation, evaluation.size());
            double lost = evaluation.hasLabels() ? a.dropPoints(base) : 100 * (1 - a.agreement());
            boolean ok = lost <= o.budgetPoints();
            Step step = new Step(sparsity, lost, ok);
            steps.add(step);
            onStep.accept(step);
            if (!ok) {
                break;
            }
            kept = next;
            keptSparsity = sparsity;
            current = next;
        }
        return new Result(kept, keptSparsity, steps);
    }
}
