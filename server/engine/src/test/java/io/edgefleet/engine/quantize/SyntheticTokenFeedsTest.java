package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QTestSupport.count;
import static io.edgefleet.engine.quantize.QTestSupport.meanRelativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.pipeline.PassContext;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SyntheticTokenFeedsTest {

    static final int VOCAB = 300;
    static final int DIM = 64;

    /**
     * A tiny encoder-shaped model: word + token-type embeddings, a LayerNorm-like per-channel gain with three outlier
     * channels, the attention mask as a multiplicative gate, then three projections of the same activation.
     */
    static OnnxModel tokenModel(String idsType) {
        ElemType t = ElemType.valueOf(idsType);
        float[] gamma = new float[DIM];
        for (int c = 0; c < DIM; c++) {
            gamma[c] = 0.5f + 0.01f * c;
        }
        gamma[5] = 40f;
        gamma[21] = -30f;
        gamma[60] = 25f;
        OnnxBuilder b = OnnxBuilder.model("tokens").opset(17)
                .input("input_ids", t, "batch", "sequence")
                .input("token_type_ids", t, "batch", "sequence")
                .input("attention_mask", t, "batch", "sequence")
                .output("y", ElemType.FLOAT, "batch", "sequence", 3 * 48)
                .randomInitializer("words", new long[] {VOCAB, DIM}, 1f, 11)
                .randomInitializer("types", new long[] {2, DIM}, 0.1f, 12)
                .initializer("gamma", new long[] {DIM}, gamma)
                .randomInitializer("wq", new long[] {DIM, 48}, 0.2f, 13)
                .randomInitializer("wk", new long[] {DIM, 48}, 0.2f, 14)
                .randomInitializer("wv", new long[] {DIM, 48}, 0.2f, 15)
                .node("Gather").name("word_emb").in("words", "input_ids").out("we").add()
                .node("Gather").name("type_emb").in("types", "token_type_ids").out("te").add()
                .node("Add").name("emb").in("we", "te").out("e").add()
                .node("Mul").name("ln").in("e", "gamma").out("h0").add()
                .node("Cast").name("mask_f").in("attention_mask").out("m").attr("to", (long) ElemType.FLOAT.code()).add()
                .node("Unsqueeze").name("mask_u").in("m", "axes").out("mu").add()
                .node("Mul").name("gate").in("h0", "mu").out("h").add()
                .node("MatMul").name("q").in("h", "wq").out("qh").add()
                .node("MatMul").name("k").in("h", "wk").out("kh").add()
                .node("MatMul").name("v").in("h", "wv").out("vh").add()
                .node("Concat").name("cat").in("qh", "kh", "vh").out("y").attr("axis", -1L).add();
        b.initializerInt64("axes", new long[] {1}, -1);
        return b.build();
    }

    /** "Real" inputs for the check: ids from a skewed distribution the synthetic feeds never saw. */
    static Map<String, TensorData> realFeeds(int batch, int len, long seed) {
        Random r = new Random(seed);
        long[] ids = new long[batch * len];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Math.min(VOCAB - 1, (long) Math.abs(r.nextGaussian() * 60));
        }
        long[] ones = new long[ids.length];
        Arrays.fill(ones, 1);
        long[] shape = {batch, len};
        Map<String, TensorData> m = new LinkedHashMap<>();
        m.put("input_ids", TensorData.ofInt64("input_ids", shape, ids));
        m.put("token_type_ids", TensorData.ofInt64("token_type_ids", shape, new long[ids.length]));
        m.put("attention_mask", TensorData.ofInt64("attention_mask", shape, ones));
        return m;
    }

    @Test
    void planFindsTheVocabularyTheTypeTableAndTheMask() {
        SyntheticTokenFeeds.Plan plan = SyntheticTokenFeeds.plan(tokenModel("INT64"));
        assertTrue(plan.applicable(), plan.describe());
        List<SyntheticTokenFeeds.Role> roles = plan.inputs().stream().map(SyntheticTokenFeeds.InputPlan::role).toList();
        assertEquals(List.of(SyntheticTokenFeeds.Role.TOKEN_IDS, SyntheticTokenFeeds.Role.TYPE_IDS,
                SyntheticTokenFeeds.Role.MASK), roles);
        assertEquals(VOCAB, plan.inputs().get(0).vocabulary());
        assertEquals("input_ids = uniform ids over 300 rows, token_type_ids = 0, attention_mask = 1", plan.describe());
    }

    @Test
    void feedsAreDeterministicInRangeAndRunInOnnxRuntime() throws Exception {
        for (String type : List.of("INT64", "INT32")) {
            OnnxModel m = tokenModel(type);
            List<Map<String, TensorData>> a = SyntheticTokenFeeds.generate(m, 12, 3, 9, 5);
            List<Map<String, TensorData>> b = SyntheticTokenFeeds.generate(m, 12, 3, 9, 5);
            List<Map<String, TensorData>> c = SyntheticTokenFeeds.generate(m, 12, 3, 9, 6);
            assertEquals(12, a.size());
            boolean differs = false;
            java.util.Set<Long> lengths = new java.util.HashSet<>();
            for (int i = 0; i < a.size(); i++) {
                TensorData ids = a.get(i).get("input_ids");
                assertEquals(ElemType.valueOf(type), ids.type());
                assertEquals(1, ids.dim(0));
                long len = ids.dim(1);
                assertTrue(len >= 3 && len <= 9, "length " + len);
                lengths.add(len);
                long[] v = values(ids);
                assertTrue(Arrays.stream(v).allMatch(x -> x >= 0 && x < VOCAB), Arrays.toString(v));
                assertArrayEquals(v, values(b.get(i).get("input_ids")));
                differs |= !Arrays.equals(v, values(c.get(i).get("input_ids")));
                assertTrue(Arrays.stream(values(a.get(i).get("token_type_ids"))).allMatch(x -> x == 0));
                assertTrue(Arrays.stream(values(a.get(i).get("attention_mask"))).allMatch(x -> x == 1));
                assertArrayEquals(ids.shape(), a.get(i).get("attention_mask").shape());
                assertEquals(QTestSupport.run(m, a.get(i)).get(0).length, len * 3 * 48);
            }
            assertTrue(differs, "another seed gives other ids");
            assertTrue(lengths.size() > 1, "lengths vary: " + lengths);
        }
    }

    static long[] values(TensorData t) {
        return t.type() == ElemType.INT32 ? Arrays.stream(t.ints()).asLongStream().toArray() : t.longs();
    }

    @Test
    void floatInputsAndModelsWithoutAVocabularyAreRefusedWithTheReason() {
        SyntheticTokenFeeds.Plan f = SyntheticTokenFeeds.plan(ActivationSmoothingTest.outlierBlock(40f));
        assertFalse(f.applicable());
        assertTrue(f.refusal().contains("'x' is FLOAT"), f.refusal());
        OnnxModel smallTable = OnnxBuilder.model("small").opset(17)
                .input("ids", ElemType.INT64, "N", 4)
                .output("y", ElemType.FLOAT, "N", 4, 8)
                .randomInitializer("t", new long[] {10, 8}, 1f, 1)
                .node("Gather").name("g").in("t", "ids").out("y").add()
                .build();
        SyntheticTokenFeeds.Plan s = SyntheticTokenFeeds.plan(smallTable);
        assertFalse(s.applicable());
        assertTrue(s.refusal().contains("embedding table of at least 256 rows"), s.refusal());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SyntheticTokenFeeds.generate(smallTable, 4, 2, 3, 1));
        assertTrue(e.getMessage().contains("256 rows"));
        assertThrows(IllegalArgumentException.class, () -> SyntheticTokenFeeds.generate(tokenModel("INT64"), 4, 5, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> SyntheticTokenFeeds.generate(tokenModel("INT64"), 0, 1, 3, 1));
    }

    /**
     * Without any data, smoothing ranges measured on synthetic sequences find the outlier channels (they come from
     * the weights), and dynamic int8 of the smoothed model tracks the float model on inputs drawn differently far
     * better than plain dynamic int8.
     */
    @Test
    void recipeWithoutDataSmoothsFromSyntheticTokensAndBeatsPlainDynamicInt8() throws Exception {
        OnnxModel f = tokenModel("INT64");
        PassContext ctx = PassContext.standalone(f, null, Map.of());
        OnnxModel smooth = RecipeRegistry.get("dynamic-int8-smooth").passes().get(0).apply(f, ctx);
        assertTrue(ctx.notes().stream().anyMatch(n -> n.contains("no calibration data") && n.contains("64 synthetic")
                && n.contains("uniform ids over 300 rows")), ctx.notes().toString());
        assertTrue(ctx.notes().stream().anyMatch(n -> n.contains("3 of 3")), ctx.notes().toString());
        assertEquals(1, count(smooth, "MatMulInteger"));
        OnnxModel plain = new DynamicInt8Quantizer(DynamicInt8Quantizer.Options.DEFAULTS).quantize(f).model();
        double errSmooth = 0;
        double errPlain = 0;
        for (int i = 0; i < 4; i++) {
            Map<String, TensorData> feeds = realFeeds(2, 7 + i, 100 + i);
            errSmooth += meanRelativeError(f, smooth, feeds);
            errPlain += meanRelativeError(f, plain, feeds);
        }
        assertTrue(errSmooth < errPlain * 0.5, "smoothed " + errSmooth + " vs plain " + errPlain);

        // each length on its own is checked when the recipe is configured; their order only when the job runs
        BadInputException huge = assertThrows(BadInputException.class, () -> RecipeRegistry.get("dynamic-int8-smooth")
                .withParameters(Map.of("syntheticMaxLength", "1000000")));
        assertTrue(huge.getMessage().contains("'syntheticMaxLength' must be an integer in [1, 2048]"),
                huge.getMessage());
        PassContext bad = PassContext.standalone(f, null, RecipeRegistry.get("dynamic-int8-smooth")
                .withParameters(Map.of("syntheticMinLength", "100", "syntheticMaxLength", "50")).parameters());
        BadInputException e = assertThrows(BadInputException.class,
                () -> RecipeRegistry.get("dynamic-int8-smooth").passes().get(0).apply(f, bad));
        assertTrue(e.getMessage().contains("minLength <= maxLength"), e.getMessage());
    }
}
