package io.edgefleet.engine.prune;

import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static io.edgefleet.engine.prune.PruneFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.recalib.LeastSquaresReconstruction;
import java.util.List;
import org.junit.jupiter.api.Test;

class StructuredPruningTest {

    private static StructuredPruning.Options fast(double target) {
        return new StructuredPruning.Options(ChannelImportance.Criterion.CONTRIBUTION, BudgetAllocator.Measure.MACS,
                target, StructuredPruning.Allocation.SENSITIVITY, 1, 0.75,
                StructuredPruning.Recalibration.LEAST_SQUARES,
                new Sensitivity.Options(new double[] {0.25, 0.5}, 32, true,
                        new LeastSquaresReconstruction.Options(32, 8, 1e-3, true, 4096, 7, true)),
                LeastSquaresReconstruction.Options.defaults().withMaxSamples(64), 64);
    }

    @Test
    void meetsTheMacsTargetAndLeastSquaresBeatsNoRecalibration() {
        OnnxModel m = PruneFixtures.residualCnn(3);
        Dataset calib = PruneFixtures.randomData(m, 64, 1);
        Dataset check = PruneFixtures.randomData(m, 64, 2);
        StructuredPruning.Result r = StructuredPruning.run(m, calib, fast(0.5));
        ModelCost base = ModelCost.of(m);
        ModelCost after = ModelCost.of(r.model());
        assertTrue(after.macs() <= 0.5 * base.macs(), after.macs() + " of " + base.macs());
        assertEquals((double) after.macs() / base.macs(), r.predictedFraction(), 1e-9);
        assertTrue(after.bytes() < base.bytes() * 0.7, "pruned storage is smaller: " + after.bytes());
        assertEquals(3, r.curves().size());
        assertFalse(r.fits().isEmpty());
        assertTrue(r.notes().stream().anyMatch(n -> n.startsWith("BatchNorm statistics re-estimated")), r.notes().toString());

        StructuredPruning.Result none = StructuredPruning.run(m, ChannelAnalysis.analyze(m), calib,
                fast(0.5).withRecalibration(StructuredPruning.Recalibration.NONE), r.curves());
        assertEquals(r.keptChannels(), none.keptChannels(), "same curves, same allocation");
        float[] expected = outputs(m, check);
        double withLs = relativeError(outputs(r.model(), check), expected);
        double without = relativeError(outputs(none.model(), check), expected);
        // A random-weight network has no redundancy, so a good part of the damage is unrecoverable; on the
        // calibration samples themselves the refit does much better.
        assertTrue(withLs < 0.75 * without, "held-out error with least squares " + withLs + ", without " + without);
        float[] seen = outputs(m, calib);
        double inSample = relativeError(outputs(r.model(), calib), seen);
        assertTrue(inSample < withLs && inSample < 0.2 * relativeError(outputs(none.model(), calib), seen),
                "on calibration samples: " + inSample);

        StructuredPruning.Result bias = StructuredPruning.run(m, ChannelAnalysis.analyze(m), calib,
                fast(0.5).withRecalibration(StructuredPruning.Recalibration.BIAS_CORRECTION), r.curves());
        assertTrue(relativeError(outputs(bias.model(), check), expected) < without);
    }

    @Test
    void magnitudeBaselineNeedsNoDataAndUsesOneRatio() {
        OnnxModel m = PruneFixtures.residualCnn(4);
        StructuredPruning.Result r = StructuredPruning.run(m, null, StructuredPruning.Options.magnitudeBaseline(0.5));
        assertTrue(ModelCost.of(r.model()).macs() <= 0.5 * ModelCost.of(m).macs());
        assertTrue(r.curves().isEmpty());
        List<ChannelGroup> groups = r.groups().stream().filter(ChannelGroup::prunable).toList();
        double ratio0 = 1 - (double) r.keptChannels().get(groups.get(0).id()) / groups.get(0).channels();
        for (ChannelGroup g : groups) {
            double ratio = 1 - (double) r.keptChannels().get(g.id()) / g.channels();
            assertEquals(ratio0, ratio, 1.0 / g.channels() + 1e-9, "one ratio for all");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StructuredPruning.run(m, null, fast(0.5)));
        assertTrue(e.getMessage().contains("calibration data"));
    }

    @Test
    void modelWithNothingPrunableComesBackUnchangedWithANote() {
        OnnxModel m = io.edgefleet.engine.onnx.SampleModels.ifModel(1);
        StructuredPruning.Result r = StructuredPruning.run(m, PruneFixtures.randomData(m, 8, 1), fast(0.5));
        assertTrue(r.notes().contains("no channel group can be pruned"));
        assertTrue(r.keptChannels().isEmpty());
        assertEquals(m.edit().toModel().sha256(), r.model().sha256());
    }

    @Test
    void digitsResnetKeepsItsAccuracyAtLessThanHalfTheMacs() {
        assumeTrue(PruneFixtures.digitsPresent(), "digits fixtures not present");
        OnnxModel m = OnnxModel.read(PruneFixtures.DIGITS.resolve("digits-resnet.onnx"));
        Dataset calib = Dataset.fromNpz(PruneFixtures.DIGITS.resolve("digits-resnet-calibration.npz")).head(128);
        Dataset val = Dataset.fromNpz(PruneFixtures.DIGITS.resolve("digits-resnet-validation.npz"));
        StructuredPruning.Options o = StructuredPruning.Options.recommended(0.45)
                .withAllocation(StructuredPruning.Allocation.UNIFORM);
        o = new StructuredPruning.Options(o.criterion(), o.measure(), o.targetFraction(), o.allocation(), 4,
                o.maxRatio(), o.recalibration(), o.sensitivity(),
                new LeastSquaresReconstruction.Options(128, 16, 1e-3, true, 4096, 7, true), 128);
        StructuredPruning.Result r = StructuredPruning.run(m, calib, o);
        assertTrue(ModelCost.of(r.model()).macs() <= 0.45 * ModelCost.of(m).macs());
        Accuracy base = Accuracy.measure(m, null, val, val.size());
        Accuracy pruned = Accuracy.measure(r.model(), m, val, val.size());
        assertTrue(pruned.dropPoints(base) <= 1.0, "lost " + pruned.dropPoints(base) + " points");
        assertTrue(pruned.worstCohortDropPoints(base) <= 2.0);
    }
}
