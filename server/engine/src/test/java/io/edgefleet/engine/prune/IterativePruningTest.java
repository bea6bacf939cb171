package io.edgefleet.engine.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.TestData;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.pipeline.CompressionJob;
import io.edgefleet.engine.pipeline.JobResult;
import io.edgefleet.engine.pipeline.LayerDecision;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import io.edgefleet.engine.recalib.LinearLayer;
import io.edgefleet.engine.report.Report;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The held-out split of the iterative schedule and the {@code prune-iterative} recipe built on it. */
class IterativePruningTest {

    /** Calibration data whose rows can be told apart: x[i][0] = i. */
    static Dataset numbered(int n) {
        float[] x = io.edgefleet.engine.onnx.OnnxBuilder.randomUniform(31, n * 64, 0, 1);
        for (int i = 0; i < n; i++) {
            x[i * 64] = i;
        }
        long[] labels = new long[n];
        long[] cohorts = TestData.cohorts(n, 3);
        for (int i = 0; i < n; i++) {
            labels[i] = i % 10;
        }
        return Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {n, 64}, x)), labels, cohorts);
    }

    static int[] rowIds(Dataset d) {
        float[] x = d.input("x").floats();
        return IntStream.range(0, d.size()).map(i -> (int) x[i * 64]).toArray();
    }

    @Test
    void theSplitIsDisjointCompleteDeterministicAndKeepsLabels() {
        Dataset data = numbered(40);
        IterativePruning.Split s = IterativePruning.split(data, 0.25, 7);
        assertEquals(10, s.check().size());
        assertEquals(30, s.fit().size());
        // The datasets hold exactly the rows their index lists name: no check row is in the fit part.
        assertArrayEquals(s.fitRows(), rowIds(s.fit()));
        assertArrayEquals(s.checkRows(), rowIds(s.check()));
        assertTrue(Arrays.stream(s.fitRows()).noneMatch(i -> Arrays.stream(s.checkRows()).anyMatch(j -> j == i)));
        int[] all = IntStream.concat(Arrays.stream(s.fitRows()), Arrays.stream(s.checkRows())).sorted().toArray();
        assertArrayEquals(IntStream.range(0, 40).toArray(), all);
        for (int k = 0; k < s.check().size(); k++) {
            assertEquals(data.label(s.checkRows()[k]), s.check().label(k));
            assertEquals(data.cohort(s.checkRows()[k]), s.check().cohort(k));
        }
        // Same seed, same split; another seed, another one.
        assertArrayEquals(s.checkRows(), IterativePruning.split(data, 0.25, 7).checkRows());
        assertFalse(Arrays.equals(s.checkRows(), IterativePruning.split(data, 0.25, 8).checkRows()));
        // Not simply the tail or the head of the file.
        assertFalse(Arrays.equals(IntStream.range(30, 40).toArray(), s.checkRows()));
        assertFalse(Arrays.equals(IntStream.range(0, 10).toArray(), s.checkRows()));
    }

    /**
     * End to end: the check rows are poisoned with NaN. Had any of them reached a least-squares refit, the refit
     * weights would be NaN; the variant's weights are all finite, and the refits did run (the pruned weights moved).
     */
    @Test
    void checkSamplesNeverReachTheRefit() {
        OnnxModel m = SampleModels.mlp(15);
        Dataset clean = Dataset.of(Map.of("x", TestData.mlpInputs(96, 41)), null, null);
        IterativePruning.Split s = IterativePruning.split(clean, 0.25, 0);
        float[] x = clean.input("x").floats();
        for (int row : s.checkRows()) {
            Arrays.fill(x, row * 64, (row + 1) * 64, Float.NaN);
        }
        Dataset poisoned = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {96, 64}, x)), null, null);
        Recipe r = RecipeRegistry.get("prune-iterative").withParameters(Map.of("step", "0.2", "maxSparsity", "0.6",
                "budgetPoints", "100"));
        JobResult res = CompressionJob.builder(m, r).calibration(poisoned).measureLatency(false).build().run();
        OnnxModel v = res.variant();
        List<LinearLayer> layers = LinearLayer.findAll(v);
        assertFalse(layers.isEmpty());
        var g = v.edit();
        double moved = 0;
        List<LinearLayer> baseLayers = LinearLayer.findAll(m);
        var bg = m.edit();
        for (int i = 0; i < layers.size(); i++) {
            float[] w = layers.get(i).weightMatrix(g);
            float[] w0 = baseLayers.get(i).weightMatrix(bg);
            for (int k = 0; k < w.length; k++) {
                assertTrue(Float.isFinite(w[k]), "a NaN check sample reached the refit of " + layers.get(i).name());
                if (w[k] != 0f) {
                    moved += Math.abs(w[k] - w0[k]);
                }
            }
        }
        assertTrue(moved > 0, "the kept weights were refit");
        List<LayerDecision> steps = res.report().decisions().stream().filter(d -> d.opType().equals("schedule"))
                .toList();
        assertEquals(3, steps.size(), steps.toString());
        assertEquals(0.6, steps.get(2).metrics().get("sparsity"), 1e-9);
        assertTrue(res.report().notes().stream().anyMatch(n -> n.contains("72 samples refit, 24 held out")),
                res.report().notes().toString());
    }

    @Test
    void theScheduleStopsAtTheBudgetOnTheCheckPartAndReportsEveryStep() {
        OnnxModel m = SampleModels.mlp(16);
        TensorData xs = TestData.mlpInputs(160, 42);
        Dataset calib = Dataset.of(Map.of("x", xs), TestData.predictions(m, xs), null);
        Dataset valid = TestData.labelledMlp(m, 60, 0, 43);
        Recipe r = RecipeRegistry.get("prune-iterative").withParameters(Map.of("step", "0.1", "budgetPoints", "2"));
        JobResult res = CompressionJob.builder(m, r).calibration(calib).validation(valid).measureLatency(false)
                .build().run();
        List<LayerDecision> steps = res.report().decisions().stream().filter(d -> d.opType().equals("schedule"))
                .toList();
        assertFalse(steps.isEmpty());
        for (int i = 0; i < steps.size() - 1; i++) {
            assertEquals("accepted", steps.get(i).action());
            assertTrue(steps.get(i).metrics().get("lostPoints") <= 2.0);
        }
        LayerDecision last = steps.get(steps.size() - 1);
        double reached = PruneRecipes.linearSparsity(res.variant());
        if (last.action().equals("rejected")) {
            assertTrue(last.metrics().get("lostPoints") > 2.0);
            assertEquals(steps.size() == 1 ? 0 : steps.get(steps.size() - 2).metrics().get("sparsity"), reached, 0.01);
        } else {
            assertEquals(last.metrics().get("sparsity"), reached, 0.01);
        }
        assertTrue(reached > 0, "a 2-point budget on a 40-sample check part allows some pruning");
        Report.Baseline ref = res.report().baselines().get(1);
        assertTrue(ref.description().contains("sparsity the schedule reached"), ref.description());
        assertEquals(valid.size(), ref.quality().overall().samples());
    }

    @Test
    void badCheckFractionsAreRefused() {
        OnnxModel m = SampleModels.mlp(17);
        Dataset calib = Dataset.of(Map.of("x", TestData.mlpInputs(16, 44)), null, null);
        // outside (0, 1): refused when the recipe is configured, before any job exists
        for (String bad : List.of("0", "1", "1.5", "-0.25", "lots")) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> RecipeRegistry.get("prune-iterative").withParameters(Map.of("checkFraction", bad)), bad);
            assertTrue(e.getMessage().contains("parameter 'checkFraction' must be a number in (0, 1), got '" + bad
                    + "'"), e.getMessage());
        }
        // in range but leaving no check sample out of 16: that depends on the data, so the job finds out
        Recipe r = RecipeRegistry.get("prune-iterative").withParameters(Map.of("checkFraction", "0.01"));
        BadInputException e = assertThrows(BadInputException.class,
                () -> CompressionJob.builder(m, r).calibration(calib).measureLatency(false).build().run());
        assertTrue(e.getMessage().contains("checkFraction"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> IterativePruning.split(calib, 0.99, 0));
        e = assertThrows(BadInputException.class,
                () -> RecipeRegistry.get("prune-iterative").withParameters(Map.of("step", "0")));
        assertTrue(e.getMessage().contains("'step'"), e.getMessage());
    }
}
