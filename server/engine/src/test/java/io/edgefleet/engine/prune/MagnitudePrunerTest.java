package io.edgefleet.engine.prune;

import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.recalib.LinearLayer;
import java.util.List;
import org.junit.jupiter.api.Test;

class MagnitudePrunerTest {

    private static long zeros(float[] w) {
        long z = 0;
        for (float v : w) {
            z += v == 0f ? 1 : 0;
        }
        return z;
    }

    @Test
    void perLayerPruningZeroesExactlyTheSmallestWeightsOfEachLayer() {
        OnnxModel m = SampleModels.mlp(1);
        MagnitudePruner.Result r = MagnitudePruner.prune(m,
                MagnitudePruner.Options.unstructured(0.3, MagnitudePruner.Scope.PER_LAYER), null);
        Graph before = m.edit();
        Graph after = r.model().edit();
        for (String w : new String[] {"fc1.weight", "fc2.weight"}) {
            float[] orig = before.initializer(w).floats();
            float[] pruned = after.initializer(w).floats();
            assertEquals(Math.round(0.3 * orig.length), zeros(pruned), w);
            float largestRemoved = 0;
            float smallestKept = Float.MAX_VALUE;
            for (int i = 0; i < orig.length; i++) {
                if (pruned[i] == 0f) {
                    largestRemoved = Math.max(largestRemoved, Math.abs(orig[i]));
                } else {
                    smallestKept = Math.min(smallestKept, Math.abs(orig[i]));
                    assertEquals(orig[i], pruned[i], "kept weights are untouched");
                }
            }
            assertTrue(largestRemoved <= smallestKept);
        }
        assertArrayEquals(before.initializer("fc1.weight").shape(), after.initializer("fc1.weight").shape());
        assertEquals(0.3, r.sparsity(), 1e-3);
    }

    @Test
    void globalPruningUsesOneThresholdSoLayersEndUpWithDifferentSparsity() {
        OnnxModel m = SampleModels.mlp(2); // He init: fc2's weights are larger than fc1's
        MagnitudePruner.Result r = MagnitudePruner.prune(m,
                MagnitudePruner.Options.unstructured(0.5, MagnitudePruner.Scope.GLOBAL), null);
        assertEquals(0.5, r.sparsity(), 1e-3);
        double s1 = r.layers().get(0).sparsity();
        double s2 = r.layers().get(1).sparsity();
        assertTrue(s1 > s2, "fc1 " + s1 + " vs fc2 " + s2);
    }

    @Test
    void twoFourKeepsTheTwoLargestOfEveryFourAndOnlyTheTransferSizeShrinks() {
        OnnxModel m = SampleModels.mlp(3);
        MagnitudePruner.Result r = MagnitudePruner.prune(m, MagnitudePruner.Options.nm(2, 4), null);
        Graph before = m.edit();
        Graph after = r.model().edit();
        for (LinearLayer l : LinearLayer.findAll(after)) {
            float[] w = l.weightMatrix(after);
            float[] o = LinearLayer.findAll(before).stream().filter(x -> x.name().equals(l.name())).findFirst()
                    .orElseThrow().weightMatrix(before);
            for (int row = 0; row < l.outFeatures(); row++) {
                for (int c = 0; c < l.inFeatures(); c += 4) {
                    int base = row * l.inFeatures() + c;
                    int kept = 0;
                    float minKept = Float.MAX_VALUE;
                    float maxDropped = 0;
                    for (int j = 0; j < 4; j++) {
                        if (w[base + j] != 0f) {
                            kept++;
                            minKept = Math.min(minKept, Math.abs(o[base + j]));
                        } else {
                            maxDropped = Math.max(maxDropped, Math.abs(o[base + j]));
                        }
                    }
                    assertEquals(2, kept);
                    assertTrue(maxDropped <= minKept);
                }
            }
        }
        ModelCost c0 = ModelCost.of(m);
        ModelCost c1 = ModelCost.of(r.model());
        assertEquals(c0.macs(), c1.macs(), "dense kernels do the same work");
        assertTrue(Math.abs(c0.bytes() - c1.bytes()) < 64, "dense storage keeps its size");
        assertTrue(c1.gzipBytes() < c0.gzipBytes() * 0.85, c0.gzipBytes() + " -> " + c1.gzipBytes());
        assertTrue(c1.sparsity() > 0.45);
        Dataset data = PruneFixtures.randomData(m, 3, 1);
        assertEquals(30, outputs(r.model(), data).length, "the pruned model runs");
    }

    @Test
    void smallLayersAndSharedWeightsAreLeftAloneWithAReason() {
        OnnxModel m = SampleModels.mlp(4);
        MagnitudePruner.Result r = MagnitudePruner.prune(m,
                MagnitudePruner.Options.unstructured(0.5, MagnitudePruner.Scope.PER_LAYER).withMinWeights(1000), null);
        MagnitudePruner.LayerSparsity fc2 = r.layers().stream().filter(l -> l.layer().equals("fc2")).findFirst()
                .orElseThrow();
        assertEquals("below the size limit", fc2.note());
        assertEquals(0, fc2.zeros());
    }

    @Test
    void iterativeScheduleStopsAtTheBudgetAndRecalibrationGoesFurther() {
        OnnxModel m = SampleModels.mlp(5);
        Dataset calib = PruneFixtures.randomData(m, 200, 1);
        Dataset eval = PruneFixtures.randomData(m, 200, 2);
        // Random weights and inputs give close logits: top-1 agreement is fragile, hence a loose budget.
        IterativePruning.Options o = IterativePruning.Options.defaults(15.0).withStep(0.1);
        IterativePruning.Result plain = IterativePruning.magnitude(m, calib, eval, o.withRecalibrate(false));
        IterativePruning.Result recal = IterativePruning.magnitude(m, calib, eval, o);
        for (IterativePruning.Result r : List.of(plain, recal)) {
            List<IterativePruning.Step> steps = r.steps();
            for (int i = 0; i < steps.size() - 1; i++) {
                assertTrue(steps.get(i).accepted() && steps.get(i).lostPoints() <= 15.0, steps.toString());
            }
            IterativePruning.Step last = steps.get(steps.size() - 1);
            assertTrue(!last.accepted() || last.sparsity() >= 0.95 - 1e-9, "stops at the first step over budget");
            double zeros = MagnitudePruner.prune(r.model(), MagnitudePruner.Options.unstructured(0,
                    MagnitudePruner.Scope.PER_LAYER), null).sparsity();
            assertEquals(r.sparsity(), zeros, 0.01, "the returned model has the sparsity it reports");
        }
        assertTrue(recal.sparsity() > plain.sparsity(), "recalibrated " + recal.steps() + " vs plain " + plain.steps());
    }
}
