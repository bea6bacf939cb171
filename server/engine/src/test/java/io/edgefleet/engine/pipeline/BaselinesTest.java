package io.edgefleet.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.TestData;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.Evaluator;
import io.edgefleet.engine.eval.Quality;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.prune.MagnitudePruner;
import io.edgefleet.engine.report.Report;
import io.edgefleet.engine.report.ReportWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report's baselines: the uncompressed model and the recipe's aggressive reference, measured like the variant. */
class BaselinesTest {
    static final Evaluator.Options FAST = Evaluator.Options.defaults().withLatencyRuns(1, 5);

    /** Top-1 accuracy in percent of a model on labelled data, computed here without the engine's evaluator. */
    static double accuracyPercent(OnnxModel m, Dataset d) {
        TensorData x = d.input("x");
        long[] pred = TestData.predictions(m, x);
        int correct = 0;
        for (int i = 0; i < pred.length; i++) {
            correct += pred[i] == d.label(i) ? 1 : 0;
        }
        return 100.0 * correct / pred.length;
    }

    static Report.Baseline baseline(Report r, String role) {
        return r.baselines().stream().filter(b -> b.role().equals(role)).findFirst().orElseThrow();
    }

    @Test
    void hessianReportComparesTheVariantWithTheBaseAndAPlainMagnitudeReference() {
        OnnxModel m = SampleModels.mlp(11);
        Dataset calib = Dataset.of(Map.of("x", TestData.mlpInputs(256, 21)), null, null);
        Dataset valid = TestData.labelledMlp(m, 120, 9, 22);
        Recipe hessian = RecipeRegistry.get("prune-hessian").withParameters(Map.of("sparsity", "0.7"));
        JobResult res = CompressionJob.builder(m, hessian).calibration(calib).validation(valid).evaluation(FAST)
                .measureLatency(false).build().run();
        Report r = res.report();
        assertEquals(2, r.baselines().size());

        Report.Baseline base = baseline(r, Report.UNCOMPRESSED);
        assertEquals(m.sha256(), base.sha256());
        assertEquals(r.stats().base(), base.stats());
        assertEquals("validation", base.evaluatedOn());
        // 9 of 120 labels were made wrong on purpose: the base's absolute top-1 is evaluated, not assumed to be 100.
        assertEquals(accuracyPercent(m, valid), base.scores().get(0).percent(), 1e-9);
        assertEquals(100.0 * 111 / 120, base.scores().get(0).percent(), 1e-9);
        assertEquals(4, base.scores().size(), "overall + 3 cohorts");
        assertEquals(valid.cohortSizes().get(2L), base.scores().get(3).samples());

        Report.Baseline ref = baseline(r, Report.AGGRESSIVE_REFERENCE);
        assertTrue(ref.description().contains("plain per-layer magnitude"), ref.description());
        // The reference is exactly plain magnitude of the Gemm/MatMul layers at the recipe's sparsity...
        OnnxModel expected = MagnitudePruner.prune(m, MagnitudePruner.Options.unstructured(0.7,
                MagnitudePruner.Scope.PER_LAYER), l -> !l.isConv()).model();
        assertEquals(expected.sha256(), ref.sha256());
        // ...and its numbers are that model's, measured on the validation data.
        assertEquals(accuracyPercent(expected, valid), ref.scores().get(0).percent(), 1e-9);
        assertEquals(accuracyPercent(m, valid) - accuracyPercent(expected, valid), ref.scores().get(0).dropPoints(),
                1e-9);
        Quality rq = ref.quality();
        assertNotNull(rq);
        assertEquals(valid.size(), rq.overall().samples());
        assertEquals(3, rq.cohorts().size());
        assertEquals(r.stats().base().macs(), ref.stats().macs(), "unstructured sparsity keeps the MACs");
        // The careful variant (Hessian + reconstruction) stays closer to the float model than the crude reference.
        Quality vq = r.accuracy().quality();
        assertTrue(vq.overall().meanCosine() > rq.overall().meanCosine(),
                vq.overall().meanCosine() + " vs reference " + rq.overall().meanCosine());
        assertTrue(vq.overall().top1Agreement() >= rq.overall().top1Agreement());

        String md = ReportWriter.markdown(r);
        assertTrue(md.contains("## Baselines"), md);
        assertTrue(md.contains(String.format(java.util.Locale.ROOT, "| uncompressed | the base model, unchanged | %d B",
                m.sizeBytes())), md);
        assertTrue(md.contains("| aggressive-reference | plain per-layer magnitude"), md);
        assertTrue(md.contains("| variant | this job's output |"), md);
    }

    @Test
    void baselinesAreDeterministicAndRoundTripThroughJson() throws Exception {
        OnnxModel m = SampleModels.cnn(4);
        Dataset valid = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {16, 1, 8, 8},
                io.edgefleet.engine.onnx.OnnxBuilder.randomUniform(5, 16 * 64, 0, 1))), null, TestData.cohorts(16, 2));
        Recipe mag = RecipeRegistry.get("prune-magnitude").withParameters(Map.of("scope", "global", "sparsity", "0.6"));
        Report a = CompressionJob.builder(m, mag).validation(valid).evaluation(FAST).build().run().report();
        Report b = CompressionJob.builder(OnnxModel.read(m.toBytes()), mag).validation(valid).evaluation(FAST).build()
                .run().report();
        assertEquals(ReportWriter.deterministicJson(a), ReportWriter.deterministicJson(b));
        Report.Baseline ref = baseline(a, Report.AGGRESSIVE_REFERENCE);
        assertNotNull(ref.quality());
        // Unlabelled: the score is agreement with the base, measured.
        assertEquals(100 * ref.quality().overall().top1Agreement(), ref.scores().get(0).percent(), 1e-9);
        assertTrue(baseline(a, Report.UNCOMPRESSED).note().contains("by definition"));
        Report back = ReportWriter.mapper().readValue(ReportWriter.json(a), Report.class);
        assertEquals(a.baselines(), back.baselines());
    }

    @Test
    void withoutValidationDataBaselinesCarrySizeAndMacsOnlyAndSayWhy() {
        OnnxModel m = SampleModels.mlp(12);
        Dataset calib = Dataset.of(Map.of("x", TestData.mlpInputs(64, 23)), null, null);
        Report r = CompressionJob.builder(m, RecipeRegistry.get("dynamic-int8").withParameters(
                Map.of("minWeightElements", "0"))).calibration(calib).evaluation(FAST).measureLatency(false).build()
                .run().report();
        assertEquals("calibration", r.accuracy().evaluatedOn());
        for (Report.Baseline b : r.baselines()) {
            assertEquals("none", b.evaluatedOn());
            assertTrue(b.scores().isEmpty());
            assertNull(b.quality());
            assertTrue(b.note().contains("no validation data"), b.note());
            assertTrue(b.stats().macs() > 0);
        }
        Report.Baseline ref = baseline(r, Report.AGGRESSIVE_REFERENCE);
        assertTrue(ref.description().contains("one scale per weight tensor"), ref.description());
        assertTrue(ref.sizeRatio() < 1, "int8 weights are smaller: " + ref.sizeRatio());
    }

    @Test
    void aRecipeWithoutAReferenceSaysSoAndBaselineRecipesHaveNone() {
        OnnxModel m = SampleModels.mlp(13);
        Dataset valid = TestData.labelledMlp(m, 30, 0, 24);
        Report noisy = CompressionJob.builder(m, TestPasses.noiseRecipe(0.01)).validation(valid).evaluation(FAST)
                .measureLatency(false).build().run().report();
        assertEquals(List.of(Report.UNCOMPRESSED, Report.AGGRESSIVE_REFERENCE),
                noisy.baselines().stream().map(Report.Baseline::role).toList());
        assertTrue(baseline(noisy, Report.AGGRESSIVE_REFERENCE).description().contains("defines no aggressive"));
        assertNull(baseline(noisy, Report.AGGRESSIVE_REFERENCE).stats());
        Report identity = CompressionJob.builder(m, RecipeRegistry.identity()).validation(valid).evaluation(FAST)
                .measureLatency(false).build().run().report();
        assertTrue(identity.baselines().isEmpty());
        assertTrue(ReportWriter.markdown(identity).contains("itself about the uncompressed model"));
    }

    @Test
    void aReferenceThatCannotBeBuiltDoesNotFailTheJob() {
        OnnxModel m = SampleModels.mlp(14);
        Recipe broken = TestPasses.noiseRecipe(0).withReference((base, variant, decisions, ctx) -> {
            throw new IllegalStateException("no way to build it");
        });
        Report r = CompressionJob.builder(m, broken).validation(TestData.labelledMlp(m, 30, 0, 25)).evaluation(FAST)
                .measureLatency(false).build().run().report();
        Report.Baseline ref = baseline(r, Report.AGGRESSIVE_REFERENCE);
        assertEquals("not built: no way to build it", ref.description());
        assertNull(ref.sha256());
        assertTrue(r.gate().passed(), r.gate().reasons().toString());
    }
}
