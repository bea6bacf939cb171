package io.edgefleet.engine.prune;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.recalib.ChannelMap;
import io.edgefleet.engine.recalib.LeastSquaresReconstruction;
import java.util.ArrayList;
import java.util.List;

/**
 * An iterative magnitude schedule: raise the sparsity a step at a time, recalibrate (a least-squares refit that keeps
 * the zeros), evaluate, and stop at the accuracy budget, returning the last model that stayed within it. Masks only
 * grow: the weights zeroed at one step are the smallest at the next, and the refit keeps them at zero.
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
     * @param calibration data for the refits
     * @param evaluation data the budget is checked on (labels: top-1; otherwise agreement with the float model);
     *     keep it apart from any final validation set
     */
    public static Result magnitude(OnnxModel model, Dataset calibration, Dataset evaluation, Options o) {
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
            steps.add(new Step(sparsity, lost, ok));
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
