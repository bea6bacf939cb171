package io.edgefleet.engine.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.pipeline.CompressionJob;
import io.edgefleet.engine.pipeline.JobResult;
import io.edgefleet.engine.pipeline.LayerDecision;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.report.Report;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The recipes run through the engine's own CompressionJob, so what they write is loaded and reported. */
class PruneRecipesTest {

    private static Recipe recipe(String name) {
        return new PruneRecipes().recipes().stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow();
    }

    private static JobResult run(OnnxModel m, Recipe r, Dataset calib) {
        return CompressionJob.builder(m, r).calibration(calib).validation(calib).measureLatency(false).build().run();
    }

    @Test
    void everyRecipeHasAUniqueValidName() {
        List<Recipe> all = new PruneRecipes().recipes();
        assertEquals(List.of("prune-structured", "prune-structured-int8", "prune-magnitude", "prune-hessian",
                "prune-iterative", "lowrank-svd"), all.stream().map(Recipe::name).toList());
        assertTrue(all.stream().allMatch(r -> r.reference() != null), "every pruning recipe has a reference");
        assertTrue(all.stream().filter(r -> !r.name().equals("prune-magnitude")).allMatch(Recipe::needsCalibration));
    }

    @Test
    void structuredRecipeReportsGroupsBlockersAndTheAggressiveReference() {
        OnnxModel m = PruneFixtures.residualCnn(7);
        Dataset calib = PruneFixtures.randomData(m, 40, 1);
        JobResult res = run(m, recipe("prune-structured").withParameters(Map.of("target", "0.6",
                "calibrationSamples", "40", "channelMultiple", "1")), calib);
        List<LayerDecision> d = res.report().decisions();
        assertTrue(d.stream().anyMatch(x -> x.action().equals("pruned")), d.toString());
        assertTrue(d.stream().anyMatch(x -> x.action().equals("kept-whole") && x.reason().contains("graph output")));
        Report.Baseline ref = res.report().baselines().stream()
                .filter(b -> b.role().equals(Report.AGGRESSIVE_REFERENCE)).findFirst().orElseThrow();
        assertTrue(ref.description().startsWith("L1 channel magnitude, one ratio"), ref.description());
        assertTrue(ref.macsRatio() <= 0.6 + 1e-9, "reference MACs ratio " + ref.macsRatio());
        assertEquals(calib.size(), ref.quality().overall().samples());
        assertTrue(res.variant().sizeBytes() < m.sizeBytes());
        assertTrue(res.report().stats().macsRatio() <= 0.6, "MACs ratio " + res.report().stats().macsRatio());
    }

    @Test
    void hybridRecipeEndsInInt8AndMagnitudeRecipeNotesTheTransferSize() {
        OnnxModel m = SampleModels.cnn(8);
        Dataset calib = PruneFixtures.randomData(m, 32, 2);
        JobResult hybrid = run(m, recipe("prune-structured-int8").withParameters(Map.of("target", "0.7",
                "calibrationSamples", "32", "channelMultiple", "1", "allocation", "uniform")), calib);
        assertTrue(hybrid.variant().opHistogram().containsKey("QuantizeLinear"), hybrid.variant().opHistogram().toString());
        try (OrtRunner r = OrtRunner.open(hybrid.variant())) {
            assertEquals(1, r.outputNames().size());
        }
        Report.Baseline hybridRef = hybrid.report().baselines().get(1);
        assertTrue(hybridRef.description().endsWith("then the same static int8 (minmax)"), hybridRef.description());
        assertTrue(hybridRef.stats().opHistogram().containsKey("QuantizeLinear"), hybridRef.stats().opHistogram()
                .toString());
        JobResult mag = run(m, recipe("prune-magnitude").withParameters(Map.of("nm", "2:4")), calib);
        assertTrue(mag.report().notes().stream().anyMatch(n -> n.contains("gzip transfer")), mag.report().notes().toString());
    }

    @Test
    void badParametersAreBadInputWithTheAllowedValues() {
        OnnxModel m = SampleModels.mlp(9);
        Dataset calib = PruneFixtures.randomData(m, 16, 3);
        BadInputException e = assertThrows(BadInputException.class,
                () -> run(m, recipe("prune-magnitude").withParameters(Map.of("nm", "4:2")), calib));
        assertTrue(e.getMessage().contains("2:4"), e.getMessage());
        e = assertThrows(BadInputException.class,
                () -> run(m, recipe("prune-structured").withParameters(Map.of("criterion", "vibes")), calib));
        assertTrue(e.getMessage().contains("contribution"), e.getMessage());
        e = assertThrows(BadInputException.class,
                () -> run(m, recipe("prune-hessian").withParameters(Map.of("sparsity", "1.5")), calib));
        assertTrue(e.getMessage().contains("sparsity"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> CompressionJob.builder(m, recipe("prune-hessian"))
                .measureLatency(false).build().run());
        assertTrue(e.getMessage().contains("calibration"), e.getMessage());
    }

    @Test
    void hessianAndLowRankRecipesRunEndToEnd() {
        OnnxModel m = SampleModels.mlp(10);
        Dataset calib = PruneFixtures.randomData(m, 128, 4);
        JobResult h = run(m, recipe("prune-hessian"), calib);
        assertTrue(h.report().decisions().stream().allMatch(x -> x.metrics().get("sparsity") > 0.49),
                h.report().decisions().toString());
        JobResult lr = run(m, recipe("lowrank-svd").withParameters(Map.of("energy", "0.9")), calib);
        assertEquals(2, lr.report().decisions().size());
        Report.Baseline plain = lr.report().baselines().get(1);
        long factorized = lr.report().decisions().stream().filter(x -> x.action().startsWith("rank-")).count();
        assertTrue(factorized > 0, lr.report().decisions().toString());
        // Same ranks, so the same size as the variant; only the data-aware fit differs.
        assertEquals(lr.report().stats().variant().parameters(), plain.stats().parameters());
        assertTrue(plain.description().contains("same ranks (" + factorized + " layers)"), plain.description());
    }

    @Test
    void hessianRecipeSplitsTheSparsityByMeasuredDamageAndSaysHow() {
        OnnxModel m = SampleModels.mlp(10);
        Dataset calib = PruneFixtures.randomData(m, 128, 4);
        JobResult h = run(m, recipe("prune-hessian").withParameters(Map.of("allocation", "measured")), calib);
        List<LayerDecision> d = h.report().decisions();
        assertEquals(2, d.size());
        for (LayerDecision x : d) {
            double s = x.metrics().get("sparsity");
            assertTrue(s >= 0.2 - 1e-9 && s <= 0.8 + 1e-9, "within 0.5 ± 0.3: " + x);
            assertTrue(x.reason().contains("measured allocation") && x.reason().contains("0.30/0.50/0.70"),
                    x.reason());
        }
        assertEquals(0.5, PruneRecipes.linearSparsity(h.variant()), 1e-3, "the overall target, whatever the split");
        assertTrue(h.report().notes().stream().anyMatch(n -> n.contains("measured allocation: 2 layers")),
                h.report().notes().toString());

        BadInputException e = assertThrows(BadInputException.class, () -> run(m, recipe("prune-hessian")
                .withParameters(Map.of("allocation", "relative")), calib));
        assertTrue(e.getMessage().contains("uniform, outlier_weighted, measured"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> run(m, recipe("prune-hessian")
                .withParameters(Map.of("allocation", "measured", "nm", "2:4")), calib));
        assertTrue(e.getMessage().contains("N:M"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> run(m, recipe("prune-hessian")
                .withParameters(Map.of("allocation", "measured", "allocationSpread", "0.7")), calib));
        assertTrue(e.getMessage().contains("allocationSpread"), e.getMessage());
    }

    @Test
    void hessianRecipeCountsTheErrorAfterTheReluAndRevisitsMasksWhenAsked() {
        OnnxModel m = SampleModels.mlp(10);
        Dataset calib = PruneFixtures.randomData(m, 128, 4);
        JobResult h = run(m, recipe("prune-hessian").withParameters(Map.of("activationAware", "true",
                "maskSwaps", "100")), calib);
        List<LayerDecision> d = h.report().decisions();
        assertEquals(2, d.size());
        assertTrue(d.get(0).reason().startsWith("activation-aware (RELU"), d.get(0).reason());
        assertTrue(d.get(1).reason().contains("swap"), "fc2 (32 inputs) gets the exact refit and the search: "
                + d.get(1).reason());
        assertEquals(0.5, PruneRecipes.linearSparsity(h.variant()), 1e-3);
        JobResult noExact = run(m, recipe("prune-hessian").withParameters(Map.of("maskSwaps", "100",
                "exactRefitInputs", "16")), calib);
        assertTrue(noExact.report().decisions().stream().noneMatch(x -> x.reason().contains("swap")),
                "no layer has 16 inputs or fewer: " + noExact.report().decisions());
        BadInputException e = assertThrows(BadInputException.class, () -> run(m, recipe("prune-hessian")
                .withParameters(Map.of("maskSwaps", "10", "nm", "2:4")), calib));
        assertTrue(e.getMessage().contains("maskSwaps"), e.getMessage());
    }

    @Test
    void hessianRecipeFindsTheAttentionMaskOrTakesTheOneItIsGiven() {
        OnnxModel tokens = io.edgefleet.engine.onnx.OnnxBuilder.model("tokens").opset(17)
                .input("input_ids", io.edgefleet.engine.onnx.ElemType.INT64, "N", "S")
                .input("attention_mask", io.edgefleet.engine.onnx.ElemType.INT64, "N", "S")
                .output("y", io.edgefleet.engine.onnx.ElemType.FLOAT, "N", "S", 8)
                .randomInitializer("emb", new long[] {300, 8}, 1f, 1)
                .node("Gather").name("g").in("emb", "input_ids").out("y").add()
                .build();
        assertEquals("attention_mask", PruneRecipes.tokenMask(tokens, "auto"));
        assertEquals("attention_mask", PruneRecipes.tokenMask(tokens, "attention_mask"));
        assertEquals(null, PruneRecipes.tokenMask(tokens, "none"));
        assertEquals(null, PruneRecipes.tokenMask(SampleModels.mlp(1), "auto"), "no integer input, no mask");
        BadInputException e = assertThrows(BadInputException.class, () -> PruneRecipes.tokenMask(tokens, "input_mask"));
        assertTrue(e.getMessage().contains("[input_ids, attention_mask]"), e.getMessage());
    }
}
