package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QTestSupport.count;
import static io.edgefleet.engine.quantize.QTestSupport.meanRelativeError;
import static io.edgefleet.engine.quantize.QTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.pipeline.PassContext;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ActivationSmoothingTest {

    private static final Dataset CALIB = StaticInt8QuantizerTest.data("x", new long[] {16, 64}, 32, 41);
    private static final Dataset EVAL = StaticInt8QuantizerTest.data("x", new long[] {16, 64}, 24, 42);

    /**
     * A post-LN-transformer-shaped block: h = x * gamma with a few outlier channels (as LayerNorm outputs have),
     * q/k projections of h and a residual h + h Wo, so h feeds three MatMuls and an Add.
     */
    static OnnxModel outlierBlock(float outlierGain) {
        float[] gamma = new float[64];
        for (int c = 0; c < 64; c++) {
            gamma[c] = 0.5f + 0.01f * c;
        }
        gamma[3] = outlierGain;
        gamma[17] = -outlierGain * 0.8f;
        gamma[50] = outlierGain * 0.6f;
        return OnnxBuilder.model("block").opset(17)
                .input("x", ElemType.FLOAT, "N", 16, 64)
                .output("y", ElemType.FLOAT, "N", 16, 160)
                .initializer("gamma", new long[] {64}, gamma)
                .randomInitializer("wq", new long[] {64, 48}, 0.2f, 1)
                .randomInitializer("wk", new long[] {64, 48}, 0.2f, 2)
                .randomInitializer("wo", new long[] {64, 64}, 0.2f, 3)
                .node("Mul").name("ln").in("x", "gamma").out("h").add()
                .node("MatMul").name("q").in("h", "wq").out("qh").add()
                .node("MatMul").name("k").in("h", "wk").out("kh").add()
                .node("MatMul").name("o").in("h", "wo").out("oh").add()
                .node("Add").name("residual").in("oh", "h").out("r").add()
                .node("Concat").name("cat").in("qh", "kh", "r").out("y").attr("axis", -1).add()
                .build();
    }

    private static final ActivationSmoothing ALL_SIZES = new ActivationSmoothing(
            ActivationSmoothing.Options.DEFAULTS.withMinWeightElements(0));

    @Test
    void outlierInputIsSmoothedExactlyInFloatAndDynamicInt8GetsCloser() throws Exception {
        OnnxModel f = outlierBlock(40f);
        ActivationSmoothing.Result sm = ALL_SIZES.smooth(f, CALIB);
        assertEquals(3, sm.smoothedCount(), sm.decisions().toString());
        assertTrue(sm.outlierRatios().get("h") > 20, sm.outlierRatios().toString());
        // exact rewrite in float: only rounding differs
        Map<String, TensorData> feeds = EVAL.feeds(f, 0, EVAL.size());
        assertTrue(relativeError(f, sm.model(), feeds) < 1e-5);
        // one shared Mul; every MatMul reads its output, the residual Add still reads the original h
        assertEquals(2, count(sm.model(), "Mul"));
        var g = sm.model().edit();
        NodeProto smooth = g.nodes().stream().filter(n -> n.getOpType().equals("Mul") && !n.getName().equals("ln"))
                .findFirst().orElseThrow();
        for (NodeProto n : g.nodes()) {
            if (n.getOpType().equals("MatMul")) {
                assertEquals(smooth.getOutput(0), n.getInput(0));
            }
            if (n.getOpType().equals("Add")) {
                assertTrue(n.getInputList().contains("h"));
            }
        }

        DynamicInt8Quantizer q = new DynamicInt8Quantizer(DynamicInt8Quantizer.Options.DEFAULTS.withMinWeightElements(0));
        OnnxModel plain = q.quantize(f).model();
        QuantizationResult smoothed = q.quantize(sm);
        OnnxModel qs = smoothed.model();
        // the siblings still merge into one integer MatMul behind the one smoothing Mul
        assertEquals(1, count(qs, "MatMulInteger"));
        assertEquals(1, count(qs, "DynamicQuantizeLinear"));
        assertEquals("dynamic-int8-smooth", qs.metadata().get("edgefleet.quantization"));
        assertTrue(smoothed.decisions().stream().filter(d -> d.opType().equals("MatMul"))
                .allMatch(d -> d.precision().equals("int8") && d.reason().contains("smoothing")), smoothed.decisions().toString());
        double before = meanRelativeError(f, plain, feeds);
        double after = meanRelativeError(f, qs, feeds);
        assertTrue(after < before * 0.4, "smoothed " + after + " vs plain " + before);
        assertTrue(after < 0.02, "smoothed error " + after);
    }

    @Test
    void evenChannelsAreLeftAloneAndAlphaZeroChangesNothing() throws Exception {
        OnnxModel f = outlierBlock(1f);
        ActivationSmoothing.Result sm = ALL_SIZES.smooth(f, CALIB);
        assertEquals(0, sm.smoothedCount());
        assertEquals(1, count(sm.model(), "Mul"));
        assertTrue(sm.decisions().stream().allMatch(d -> d.reason().contains("even")), sm.decisions().toString());

        // forced smoothing on an input that is a graph input: ranges come from the feeds themselves
        OnnxModel direct = OnnxBuilder.model("direct").opset(17)
                .input("x", ElemType.FLOAT, "N", 16, 64)
                .output("y", ElemType.FLOAT, "N", 16, 32)
                .randomInitializer("w", new long[] {64, 32}, 0.2f, 5)
                .node("MatMul").name("mm").in("x", "w").out("y").add()
                .build();
        ActivationSmoothing.Result forced = new ActivationSmoothing(ActivationSmoothing.Options.DEFAULTS
                .withMinWeightElements(0).withMinOutlierRatio(1)).smooth(direct, CALIB);
        assertEquals(1, forced.smoothedCount());
        assertTrue(relativeError(direct, forced.model(), EVAL.feeds(direct, 0, EVAL.size())) < 1e-5);

        // alpha 0 (s = 1 / amax(W)) rescales the weights the other way; still an exact rewrite
        OnnxModel block = outlierBlock(40f);
        ActivationSmoothing.Result a0 = new ActivationSmoothing(ActivationSmoothing.Options.DEFAULTS
                .withMinWeightElements(0).withAlpha(0)).smooth(block, CALIB);
        assertEquals(3, a0.smoothedCount());
        assertTrue(relativeError(block, a0.model(), EVAL.feeds(block, 0, EVAL.size())) < 1e-5);
    }

    @Test
    void smallWeightsAreNotCandidatesByDefault() {
        ActivationSmoothing.Result sm = new ActivationSmoothing().smooth(outlierBlock(40f), CALIB);
        // 64x48 and 64x64 weights are above 1024 elements: all three are candidates
        assertEquals(3, sm.decisions().size());
        ActivationSmoothing.Result none = new ActivationSmoothing(ActivationSmoothing.Options.DEFAULTS
                .withMinWeightElements(1 << 20)).smooth(outlierBlock(40f), CALIB);
        assertEquals(0, none.decisions().size());
        assertEquals(1, count(none.model(), "Mul"));
    }

    @Test
    void badInputIsRefusedWithAReason() {
        assertThrows(IllegalArgumentException.class, () -> ActivationSmoothing.Options.DEFAULTS.withAlpha(1.5));
        assertThrows(IllegalArgumentException.class, () -> ActivationSmoothing.Options.DEFAULTS.withAlpha(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> ActivationSmoothing.Options.DEFAULTS.withMinOutlierRatio(0.5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ActivationSmoothing().smooth(outlierBlock(40f), List.of()));
        assertTrue(e.getMessage().contains("calibration"));
        Dataset wrong = StaticInt8QuantizerTest.data("other", new long[] {16, 64}, 4, 1);
        assertThrows(RuntimeException.class, () -> new ActivationSmoothing().smooth(outlierBlock(40f), wrong));
    }

    @Test
    void recipeRunsThroughThePipelineApiAndRefusesFloatInputsWithoutCalibration() throws Exception {
        assertTrue(RecipeRegistry.contains("dynamic-int8-smooth"), RecipeRegistry.loadProblems().toString());
        Recipe r = RecipeRegistry.get("dynamic-int8-smooth");
        // token-id models can go without data (SyntheticTokenFeedsTest); a float-input model cannot
        assertFalse(r.needsCalibration());
        OnnxModel f = outlierBlock(40f);
        BadInputException none = assertThrows(BadInputException.class,
                () -> r.passes().get(0).apply(f, PassContext.standalone(f, null, Map.of())));
        assertTrue(none.getMessage().contains("needs calibration data") && none.getMessage().contains("FLOAT"),
                none.getMessage());

        PassContext ctx = PassContext.standalone(f, CALIB, Map.of());
        OnnxModel out = r.passes().get(0).apply(f, ctx);
        assertEquals("dynamic-int8-smooth", out.metadata().get("edgefleet.quantization"));
        assertEquals(1, count(out, "MatMulInteger"));
        assertTrue(meanRelativeError(f, out, EVAL.feeds(f, 0, EVAL.size())) < 0.02);
        assertTrue(ctx.notes().get(0).contains("3 of 3"), ctx.notes().toString());

        PassContext bad = PassContext.standalone(f, CALIB, Map.of("alpha", "2"));
        BadInputException e = assertThrows(BadInputException.class, () -> r.passes().get(0).apply(f, bad));
        assertTrue(e.getMessage().contains("alpha"));
    }
}
