package io.edgefleet.engine.recalib;

import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static io.edgefleet.engine.prune.PruneFixtures.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.prune.PruneFixtures;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Layer-normalization refits, and the padding trim of calibration captures.
 */
class NormalizationRefitTest {

    /**
     * x[N,T,8] -> MatMul(8x12)+b = h; residual s = h + MatMul(12x12)(h); ln = LayerNorm(s) (written out as exporters
     * do, or as the operator); y = MatMul(12x4)(ln).
     */
    static OnnxModel block(boolean operator) {
        OnnxBuilder b = OnnxBuilder.model("ln-block").opset(17)
                .input("x", ElemType.FLOAT, "N", "T", 8)
                .output("y", ElemType.FLOAT, "N", "T", 4)
                .heInitializer("w1", new long[] {8, 12}, 8, 31)
                .randomInitializer("b1", new long[] {12}, 0.1f, 32)
                .heInitializer("w2", new long[] {12, 12}, 12, 33)
                .heInitializer("w3", new long[] {12, 4}, 12, 34)
                .initializer("gamma", new long[] {12}, 1.0f, 0.8f, 1.2f, 1.5f, 0.5f, 1.1f, 0.9f, 1.0f, 2.0f, 0.7f,
                        1.3f, 1.0f)
                .randomInitializer("beta", new long[] {12}, 0.2f, 35);
        b.node("MatMul").name("mm1").in("x", "w1").out("h0").add();
        b.node("Add").name("bias1").in("h0", "b1").out("h").add();
        b.node("MatMul").name("mm2").in("h", "w2").out("f").add();
        b.node("Add").name("residual").in("h", "f").out("s").add();
        if (operator) {
            b.node("LayerNormalization").name("ln").in("s", "gamma", "beta").out("ln").attr("epsilon", 1e-5f).add();
        } else {
            b.initializer("two", new long[] {}, 2f).initializer("eps", new long[] {}, 1e-5f);
            b.node("ReduceMean").in("s").out("mean").ints("axes", -1).add();
            b.node("Sub").in("s", "mean").out("centred").add();
            b.node("Pow").in("centred", "two").out("sq").add();
            b.node("ReduceMean").in("sq").out("var").ints("axes", -1).add();
            b.node("Add").in("var", "eps").out("vareps").add();
            b.node("Sqrt").in("vareps").out("std").add();
            b.node("Div").in("centred", "std").out("normed").add();
            b.node("Mul").in("normed", "gamma").out("scaled").add();
            b.node("Add").in("scaled", "beta").out("ln").add();
        }
        b.node("MatMul").name("mm3").in("ln", "w3").out("y").add();
        return b.build();
    }

    /** The same model with the second layer's weights damaged (every other weight zeroed, the rest shrunk). */
    static OnnxModel damaged(OnnxModel m) {
        Graph g = m.edit();
        float[] w = g.initializer("w2").floats().clone();
        for (int i = 0; i < w.length; i++) {
            w[i] = i % 2 == 0 ? 0 : 0.6f * w[i];
        }
        g.setInitializer(TensorData.ofFloats("w2", new long[] {12, 12}, w));
        return g.toModel();
    }

    @Test
    void refitScaleAndShiftBringTheNormalizationBackTowardTheFloatModel() {
        for (boolean operator : new boolean[] {false, true}) {
            OnnxModel ref = block(operator);
            OnnxModel bad = damaged(ref);
            Graph g = bad.edit();
            NormalizationRefit.Site site = NormalizationRefit.producing(g, "ln").orElseThrow();
            assertEquals("gamma", site.gamma());
            assertEquals("beta", site.beta());
            assertEquals(operator ? "s" : "normed", site.normalized());
            assertEquals(operator, !Double.isNaN(site.epsilon()));
            assertTrue(NormalizationRefit.producing(g, "h").isEmpty(), "a bias Add is no normalization");

            Dataset calib = PruneFixtures.randomData(ref, 200, 7);
            Dataset check = PruneFixtures.randomData(ref, 100, 8);
            NormalizationRefit.Outcome oc = NormalizationRefit.refit(ref, bad, g, site, calib, 200, null);
            assertTrue(oc.refit(), oc.note());
            assertTrue(oc.ratio() < 0.95, "held-out error ratio " + oc.ratio());
            OnnxModel fixed = g.toModel();
            float[] expected = outputs(ref, check);
            double before = relativeError(outputs(bad, check), expected);
            double after = relativeError(outputs(fixed, check), expected);
            assertTrue(after < before, (operator ? "operator" : "pattern") + ": " + after + " vs " + before);

            Graph same = ref.edit();
            NormalizationRefit.Outcome none = NormalizationRefit.refit(ref, ref, same, site, calib, 200, null);
            assertFalse(none.refit(), "an undamaged model already matches: " + none.note());
            assertEquals("already matches the float model", none.note());
        }
    }

    @Test
    void hessianPruningRefitsTheNormalizationAfterThePrunedLayers() {
        OnnxModel ref = block(false);
        Dataset calib = PruneFixtures.randomData(ref, 300, 9);
        Dataset check = PruneFixtures.randomData(ref, 150, 10);
        HessianPruner.Options o = HessianPruner.Options.unstructured(0.6).withResidualTarget(true);
        HessianPruner.Result plain = HessianPruner.prune(ref, ref, calib, o, l -> !l.name().equals("mm3"));
        HessianPruner.Result refit = HessianPruner.prune(ref, ref, calib, o.withNormalizationRefit(true),
                l -> !l.name().equals("mm3"));
        assertTrue(plain.normalizations().isEmpty());
        assertEquals(1, refit.normalizations().size(), "the normalization after mm2, which no pruned layer reads");
        assertEquals("ln", refit.normalizations().get(0).site().output());
        assertEquals(0.6, refit.sparsity(), 1e-3);
        float[] expected = outputs(ref, check);
        double a = relativeError(outputs(plain.model(), check), expected);
        double b = relativeError(outputs(refit.model(), check), expected);
        NormalizationRefit.Outcome oc = refit.normalizations().get(0);
        assertTrue(oc.refit() ? b < a : b == a, oc.note() + ": " + b + " vs " + a);

    }

    /** Token ids [N,T] embedded (Gather), projected per token, padding rows zeroed by the attention mask. */
    static OnnxModel tokenModel() {
        OnnxBuilder b = OnnxBuilder.model("tokens").opset(17)
                .input("input_ids", ElemType.INT64, "N", "T")
                .input("attention_mask", ElemType.INT64, "N", "T")
                .output("y", ElemType.FLOAT, "N", "T", 4)
                .randomInitializer("emb", new long[] {10, 6}, 1f, 41)
                .heInitializer("w", new long[] {6, 4}, 6, 42)
                .initializerInt64("last", new long[] {1}, -1);
        b.node("Gather").in("emb", "input_ids").out("e").add();
        b.node("MatMul").in("e", "w").out("p").add();
        b.node("Cast").in("attention_mask").out("m").attr("to", (long) ElemType.FLOAT.code()).add();
        b.node("Unsqueeze").in("m", "last").out("m3").add();
        b.node("Mul").in("p", "m3").out("y").add();
        return b.build();
    }

    @Test
    void capturesCutEachBatchToItsLongestRealSequence() {
        OnnxModel model = tokenModel();
        long[] mask = {1, 1, 1, 0, 0, 1, 1, 0, 0, 0};
        long[] ids = {5, 6, 7, 0, 0, 3, 4, 0, 0, 0};
        Map<String, TensorData> feeds = new LinkedHashMap<>();
        feeds.put("input_ids", TensorData.ofInt64("input_ids", new long[] {2, 5}, ids));
        feeds.put("attention_mask", TensorData.ofInt64("attention_mask", new long[] {2, 5}, mask));
        Map<String, TensorData> cut = PairedCapture.trim(feeds, model, "attention_mask");
        assertArrayEquals(new long[] {2, 3}, cut.get("input_ids").shape());
        assertArrayEquals(new long[] {5, 6, 7, 3, 4, 0}, cut.get("input_ids").longs());
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 0}, cut.get("attention_mask").longs());
        assertSame(feeds, PairedCapture.trim(feeds, model, null), "no mask, no cut");

        float[] whole;
        float[] trimmed;
        try (OrtRunner r = OrtRunner.open(model)) {
            whole = r.run(feeds, List.of("y")).get("y").floats();
            trimmed = r.run(cut, List.of("y")).get("y").floats();
        }
        for (int s = 0; s < 2; s++) {
            for (int t = 0; t < 3; t++) {
                for (int k = 0; k < 4; k++) {
                    assertEquals(whole[(s * 5 + t) * 4 + k], trimmed[(s * 3 + t) * 4 + k], 1e-6);
                }
            }
        }

        Dataset sorted = HessianPruner.byLength(Dataset.of(feeds, null, null), "attention_mask");
        assertArrayEquals(new long[] {3, 4, 0, 0, 0, 5, 6, 7, 0, 0}, sorted.input("input_ids").longs(),
                "the two-token sample first");
    }
}
