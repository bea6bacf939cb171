package io.edgefleet.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.EngineVersion;
import io.edgefleet.engine.TestData;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.data.DatasetException;
import io.edgefleet.engine.eval.Evaluator;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.gate.AccuracyGate;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxFormatException;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.report.Report;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompressionJobTest {
    static final Evaluator.Options FAST = Evaluator.Options.defaults().withLatencyRuns(1, 5);

    static CompressionJob.Builder job(OnnxModel m, Recipe r) {
        return CompressionJob.builder(m, r).evaluation(FAST);
    }

    @Test
    void identityIsABaselineThatPassesAndLoads(@TempDir Path dir) {
        OnnxModel m = SampleModels.mlp(1);
        Dataset valid = TestData.labelledMlp(m, 60, 3, 2);
        JobResult r = job(m, RecipeRegistry.get("identity")).modelName("tiny mlp").validation(valid).build().run();
        assertTrue(r.passed(), r.verdict().reasons().toString());
        Report rep = r.report();
        assertEquals("BASELINE", rep.recipe().kind());
        assertEquals("tiny_mlp-identity.onnx", rep.variant().fileName());
        assertEquals(m.sha256(), rep.inputs().model().sha256());
        assertEquals(valid.sha256(), rep.inputs().validation().sha256());
        assertNull(rep.inputs().calibration());
        assertEquals("validation", rep.accuracy().evaluatedOn());
        assertEquals(0.0, rep.accuracy().quality().overall().dropPoints(), 1e-12);
        assertEquals(rep.stats().base().macs(), rep.stats().variant().macs());
        assertNotNull(rep.measurements().latency());
        assertEquals(EngineVersion.get(), rep.engineVersion());
        // The variant carries its provenance and survives a write/read/ORT round trip.
        OnnxModel v = r.variant();
        assertEquals("identity", v.metadata().get(CompressionJob.META_RECIPE));
        assertEquals(m.sha256(), v.metadata().get(CompressionJob.META_BASE_SHA256));
        assertEquals(v.sha256(), rep.variant().sha256());
        Path file = dir.resolve(rep.variant().fileName());
        v.write(file);
        try (OrtRunner runner = OrtRunner.open(OnnxModel.read(file))) {
            TensorData x = valid.input("x").sliceRows(0, 2);
            try (OrtRunner baseRunner = OrtRunner.open(m)) {
                assertArrayEquals(baseRunner.run(Map.of("x", x)).get("logits").floats(),
                        runner.run(Map.of("x", x)).get("logits").floats());
            }
        }
    }

    @Test
    void aDamagingRecipeIsRejectedAndMarked() {
        OnnxModel m = SampleModels.mlp(1);
        Dataset valid = TestData.labelledMlp(m, 90, 0, 3);
        JobResult r = job(m, TestPasses.noiseRecipe(2.0)).validation(valid).measureLatency(false).build().run();
        assertFalse(r.passed());
        assertTrue(r.verdict().reasons().get(0).startsWith("overall"), r.verdict().reasons().toString());
        assertEquals("mlp-test-noise.rejected.onnx", r.report().variant().fileName());
        assertEquals("COMPRESSION", r.report().recipe().kind());
        assertEquals(4, r.report().decisions().size());
        assertEquals("weight-noise", r.report().decisions().get(0).pass());
        assertEquals("fc1", r.report().decisions().get(0).node());
        assertNull(r.report().measurements());
        try (OrtRunner runner = OrtRunner.open(r.variant())) {
            assertEquals(List.of("logits"), runner.outputNames());
        }
    }

    @Test
    void recipeParametersReachThePasses() {
        OnnxModel m = SampleModels.mlp(1);
        Dataset valid = TestData.labelledMlp(m, 30, 0, 3);
        Recipe gentle = TestPasses.noiseRecipe(2.0).withParameters(Map.of("noise", "0"));
        JobResult r = job(m, gentle).validation(valid).measureLatency(false).build().run();
        assertTrue(r.passed());
        assertEquals("0", r.report().recipe().parameters().get("noise"));
        // a value its spec does not allow never gets as far as a job
        BadInputException e = assertThrows(BadInputException.class,
                () -> TestPasses.noiseRecipe(0).withParameters(Map.of("noise", "lots")));
        assertTrue(e.getMessage().contains("'noise'") && e.getMessage().contains("lots")
                && e.getMessage().contains(">= 0"), e.getMessage());
    }

    @Test
    void theIfModelComesOutValid() {
        OnnxModel m = SampleModels.ifModel(1);
        TensorData x = TensorData.ofFloats("x", new long[] {20, 4}, OnnxBuilder.randomUniform(6, 80, -1, 1));
        JobResult r = job(m, TestPasses.noiseRecipe(0.001)).validation(Dataset.of(Map.of("x", x), null, null))
                .measureLatency(false).gate(new AccuracyGate(5, 5)).build().run();
        assertTrue(r.passed(), r.verdict().reasons().toString());
        assertEquals(1, r.variant().opHistogram().get("If"));
        assertEquals(1, r.variant().opHistogram().get("Sigmoid"));
        try (OrtRunner runner = OrtRunner.open(OnnxModel.read(r.variant().toBytes()))) {
            assertEquals(List.of(20L, 8L), java.util.Arrays.stream(runner.run(Map.of("x", x)).get("y").shape())
                    .boxed().toList());
        }
    }

    @Test
    void calibrationIsUsedForEvaluationWhenThereIsNoValidationSet() {
        OnnxModel m = SampleModels.mlp(1);
        JobResult r = job(m, RecipeRegistry.identity()).calibration(TestData.labelledMlp(m, 20, 0, 1))
                .measureLatency(false).build().run();
        assertEquals("calibration", r.report().accuracy().evaluatedOn());
        assertTrue(r.report().notes().stream().anyMatch(n -> n.contains("calibration data")));
    }

    @Test
    void noDataMeansTheGateCannotPass() {
        OnnxModel m = SampleModels.cnn(1);
        JobResult r = job(m, RecipeRegistry.identity()).build().run();
        assertFalse(r.passed());
        assertEquals("none", r.report().accuracy().evaluatedOn());
        assertEquals("cnn-identity.rejected.onnx", r.report().variant().fileName());
        assertTrue(r.report().stats().base().macs() > 0, "MACs still come from synthetic inputs");
        assertNotNull(r.report().measurements());
    }

    @Test
    void aRecipeThatNeedsCalibrationRefusesToStartWithout() {
        Recipe needs = new Recipe("needs-calib", "test", Recipe.Kind.COMPRESSION, List.of(TestPasses.weightNoise()),
                List.of(), true);
        BadInputException e = assertThrows(BadInputException.class,
                () -> job(SampleModels.mlp(1), needs).build().run());
        assertTrue(e.getMessage().contains("needs calibration data"), e.getMessage());
    }

    @Test
    void passesThatAskForCalibrationGetAClearError() {
        Pass wantsData = new Pass() {
            @Override
            public String name() {
                return "wants-data";
            }

            @Override
            public OnnxModel apply(OnnxModel model, PassContext ctx) {
                ctx.captureActivations(model, List.of("relu1.out"), 10);
                return model;
            }
        };
        Recipe r = Recipe.compression("wants-data", "test", false, List.of(), wantsData);
        BadInputException e = assertThrows(BadInputException.class, () -> job(SampleModels.mlp(1), r).build().run());
        assertTrue(e.getMessage().contains("'wants-data'") && e.getMessage().contains("calibration"), e.getMessage());
    }

    @Test
    void datasetsThatDoNotFitAreBadInput() {
        Dataset wrong = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {3, 10}, new float[30])), null,
                null);
        assertThrows(DatasetException.class,
                () -> job(SampleModels.mlp(1), RecipeRegistry.identity()).validation(wrong).build().run());
    }

    @Test
    void aBaseModelOnnxRuntimeRefusesIsBadInput() {
        ModelProto.Builder b = SampleModels.mlp(1).proto().toBuilder();
        b.getGraphBuilder().setNode(1, NodeProto.newBuilder().setOpType("NotAnOp").addInput("fc1.out")
                .addOutput("relu1.out"));
        OnnxFormatException e = assertThrows(OnnxFormatException.class,
                () -> job(OnnxModel.of(b.build()), RecipeRegistry.identity()).build().run());
        assertEquals(OnnxFormatException.Reason.INVALID_MODEL, e.reason());
    }

    @Test
    void aPassThatBreaksTheModelIsAnEngineError() {
        Pass breaker = new Pass() {
            @Override
            public String name() {
                return "breaker";
            }

            @Override
            public OnnxModel apply(OnnxModel model, PassContext ctx) {
                Graph g = model.edit();
                NodeProto relu = g.nodeByName("relu1").orElseThrow();
                g.replaceNode(relu, relu.toBuilder().setOpType("Bogus").build());
                return g.toModel();
            }
        };
        EngineException e = assertThrows(EngineException.class, () -> job(SampleModels.mlp(1),
                Recipe.compression("breaker", "test", false, List.of(), breaker)).build().run());
        assertTrue(e.getMessage().contains("recipe 'breaker' produced a model"), e.getMessage());
    }

    @Test
    void progressIsMonotonicAndEndsAtOne() {
        OnnxModel m = SampleModels.mlp(1);
        List<Double> seen = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        job(m, TestPasses.noiseRecipe(0.01)).validation(TestData.labelledMlp(m, 40, 0, 1))
                .progress((f, msg) -> {
                    seen.add(f);
                    messages.add(msg);
                }).build().run();
        assertEquals(0.0, seen.get(0));
        assertEquals(1.0, seen.get(seen.size() - 1));
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i) >= seen.get(i - 1) - 1e-12, "progress went back at " + messages.get(i));
        }
        assertTrue(messages.stream().anyMatch(s -> s.startsWith("weight-noise: fc1.weight")), messages.toString());
        assertTrue(messages.stream().anyMatch(s -> s.startsWith("latency")), messages.toString());
    }

    @Test
    void cancellationStopsTheJob() {
        OnnxModel m = SampleModels.mlp(1);
        AtomicInteger polls = new AtomicInteger();
        assertThrows(CancellationException.class, () -> job(m, TestPasses.noiseRecipe(0.01))
                .cancelled(() -> polls.incrementAndGet() > 2).build().run());
    }
}
