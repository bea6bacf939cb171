package io.edgefleet.engine.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.pipeline.PassContext;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import io.edgefleet.engine.quantize.calib.Calibrator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MixedPrecisionAndRecipesTest {

    private static final Dataset CALIB = StaticInt8QuantizerTest.data("x", new long[] {1, 8, 8}, 48, 21);

    @Test
    void zeroBudgetKeepsEverythingFloatAndHugeBudgetQuantizesEverything() {
        OnnxModel f = SampleModels.cnn(7);
        var strict = new MixedPrecisionQuantizer(Calibrator.Method.MINMAX, 0, 48).quantize(f, CALIB, x -> { });
        assertEquals(0.0, strict.damage());
        assertTrue(strict.layers().stream().noneMatch(MixedPrecisionQuantizer.Layer::quantized));
        var loose = new MixedPrecisionQuantizer(Calibrator.Method.MINMAX, 1.0, 48).quantize(f, CALIB, x -> { });
        assertTrue(loose.layers().stream().allMatch(MixedPrecisionQuantizer.Layer::quantized));
        assertEquals(loose.fullInt8Damage(), loose.damage());
    }

    @Test
    void inBetweenBudgetKeepsTheMostSensitiveLayersFloatAndHoldsTheBudget() {
        OnnxModel f = SampleModels.cnn(7);
        var full = new MixedPrecisionQuantizer(Calibrator.Method.MINMAX, 1.0, 48).quantize(f, CALIB, x -> { });
        double budget = full.fullInt8Damage() / 2;
        var mid = new MixedPrecisionQuantizer(Calibrator.Method.MINMAX, budget, 48).quantize(f, CALIB, x -> { });
        assertTrue(mid.damage() <= budget, mid.damage() + " > " + budget);
        List<MixedPrecisionQuantizer.Layer> kept = mid.layers().stream().filter(l -> !l.quantized()).toList();
        assertTrue(!kept.isEmpty());
        double minKept = kept.stream().mapToDouble(MixedPrecisionQuantizer.Layer::sensitivity).min().orElseThrow();
        // every layer still int8 is less sensitive than every layer kept float (greedy by sensitivity)
        for (var l : mid.layers()) {
            if (l.quantized()) {
                assertTrue(l.sensitivity() <= minKept, l + " vs " + minKept);
            }
            assertTrue(l.sensitivity() >= 0);
        }
        assertTrue(mid.quantization().decisions().stream().anyMatch(d -> d.reason().contains("sensitivity")));
    }

    @Test
    void everyRecipeIsRegisteredAndRunsThroughThePipelineApi() {
        for (String name : List.of("dynamic-int8", "static-int8-minmax", "static-int8-percentile",
                "static-int8-entropy", "fp16", "fp16-storage", "int4-weight-only", "mixed-precision")) {
            assertTrue(RecipeRegistry.contains(name), name + " " + RecipeRegistry.loadProblems());
        }
        OnnxModel f = SampleModels.cnn(7);
        Recipe r = RecipeRegistry.get("mixed-precision");
        assertTrue(r.needsCalibration());
        PassContext ctx = PassContext.standalone(f, CALIB, Map.of("budget", "0.02", "method", "minmax"));
        OnnxModel out = r.passes().get(0).apply(f, ctx);
        assertTrue(out.metadata().get("edgefleet.quantization").startsWith("mixed-precision"));
        assertTrue(ctx.decisions().stream().anyMatch(d -> d.metrics().containsKey("sensitivity")), ctx.decisions().toString());
        assertEquals(1, ctx.notes().size());

        PassContext bad = PassContext.standalone(f, CALIB, Map.of("blockSize", "48"));
        assertThrows(BadInputException.class, () -> RecipeRegistry.get("int4-weight-only").passes().get(0).apply(f, bad));
    }
}
