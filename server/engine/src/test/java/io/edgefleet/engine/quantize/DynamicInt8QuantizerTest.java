package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QTestSupport.count;
import static io.edgefleet.engine.quantize.QTestSupport.randomFeeds;
import static io.edgefleet.engine.quantize.QTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DynamicInt8QuantizerTest {

    private static final DynamicInt8Quantizer ALL = new DynamicInt8Quantizer(
            DynamicInt8Quantizer.Options.DEFAULTS.withMinWeightElements(0));

    @Test
    void matMulsBecomeIntegerOpsWithInt8WeightsAndStayClose() throws Exception {
        OnnxModel f = QTestSupport.twoLayerMatMul(17);
        QuantizationResult r = new DynamicInt8Quantizer().quantize(f);
        OnnxModel q = r.model();
        assertEquals(0, count(q, "MatMul"));
        assertEquals(2, count(q, "MatMulInteger"));
        assertEquals(2, count(q, "DynamicQuantizeLinear"));
        assertEquals(2, r.quantizedCount());
        // int8 weights with per-column scales: one scale per output column
        var g = q.edit();
        TensorData w1 = g.initializer("w1_int8");
        assertEquals(ElemType.INT8, w1.type());
        assertEquals(128, g.initializer("w1_scale").elementCount());
        assertTrue(!g.isInitializer("w1"), "float weight removed");
        assertTrue(q.sizeBytes() < f.sizeBytes() * 0.35, q.sizeBytes() + " vs " + f.sizeBytes());
        double err = relativeError(f, q, randomFeeds(f, 16, 1));
        assertTrue(err < 0.03, "relative error " + err);
        assertEquals("dynamic-int8", q.metadata().get("edgefleet.quantization"));
    }

    @Test
    void siblingMatMulsOnOneInputMergeIntoOneIntegerMatMulWithSplit() throws Exception {
        OnnxModel f = QTestSupport.qkv(true);
        OnnxModel q = ALL.quantize(f).model();
        assertEquals(1, count(q, "MatMulInteger"));
        assertEquals(1, count(q, "Split"));
        assertEquals(1, count(q, "Add"), "three bias adds became one before the split");
        double err = relativeError(f, q, randomFeeds(f, 4, 2));
        assertTrue(err < 0.03, "relative error " + err);

        // one member without a bias Add: merge still happens, the biases stay after the split
        OnnxModel f2 = QTestSupport.qkv(false);
        OnnxModel q2 = ALL.quantize(f2).model();
        assertEquals(1, count(q2, "MatMulInteger"));
        assertEquals(2, count(q2, "Add"));
        assertTrue(relativeError(f2, q2, randomFeeds(f2, 4, 3)) < 0.03);

        OnnxModel unmerged = new DynamicInt8Quantizer(DynamicInt8Quantizer.Options.DEFAULTS
                .withMinWeightElements(0).withMergeSiblings(false)).quantize(f).model();
        assertEquals(3, count(unmerged, "MatMulInteger"));
        assertTrue(relativeError(f, unmerged, randomFeeds(f, 4, 2)) < 0.03);
    }

    @Test
    void gemmWithTransposedWeightAndBias() throws Exception {
        OnnxModel f = SampleModels.mlp(5);
        OnnxModel q = ALL.quantize(f).model();
        assertEquals(0, count(q, "Gemm"));
        assertEquals(2, count(q, "MatMulInteger"));
        double err = relativeError(f, q, randomFeeds(f, 32, 4));
        assertTrue(err < 0.03, "relative error " + err);
    }

    @Test
    void gemmAlphaAndBetaAreFolded() throws Exception {
        OnnxModel f = OnnxBuilder.model("gemm").opset(13)
                .input("x", ElemType.FLOAT, "N", 32)
                .output("y", ElemType.FLOAT, "N", 16)
                .randomInitializer("w", new long[] {32, 16}, 0.3f, 1)
                .randomInitializer("c", new long[] {16}, 0.5f, 2)
                .node("Gemm").name("g").in("x", "w", "c").out("y").attr("alpha", 0.5f).attr("beta", 2f).add()
                .build();
        OnnxModel q = ALL.quantize(f).model();
        assertEquals(1, count(q, "MatMulInteger"));
        assertTrue(relativeError(f, q, randomFeeds(f, 8, 5)) < 0.03);
    }

    @Test
    void embeddingTablesBecomeRowWiseInt8GatheredBeforeDequantization() throws Exception {
        OnnxModel f = OnnxBuilder.model("emb").opset(17)
                .input("ids", ElemType.INT64, "N", 6)
                .output("y", ElemType.FLOAT, "N", 6, 64)
                .randomInitializer("table", new long[] {500, 64}, 0.5f, 9)
                .node("Gather").name("lookup").in("table", "ids").out("y").add()
                .build();
        QuantizationResult r = new DynamicInt8Quantizer().quantize(f);
        OnnxModel q = r.model();
        assertEquals(ElemType.INT8, q.edit().initializer("table_int8").type());
        // 64-wide rows: 64 int8 values + one float scale each, against 256 bytes
        assertTrue(q.sizeBytes() < f.sizeBytes() / 3.5, q.sizeBytes() + " vs " + f.sizeBytes());
        long[] ids = {0, 17, 499, 3, 3, 250, 1, 2, 3, 4, 5, 6};
        Map<String, TensorData> feeds = Map.of("ids", TensorData.ofInt64("ids", new long[] {2, 6}, ids));
        float[] a = QTestSupport.run(f, feeds).get(0);
        float[] b = QTestSupport.run(q, feeds).get(0);
        TensorData table = f.edit().initializer("table");
        for (int i = 0; i < a.length; i++) {
            int row = (int) ids[i / 64];
            float rowMax = 0;
            for (int c = 0; c < 64; c++) {
                rowMax = Math.max(rowMax, Math.abs(table.floats()[row * 64 + c]));
            }
            // each row has its own scale: error at most half a step of that row
            assertTrue(Math.abs(a[i] - b[i]) <= rowMax / 127 / 2 + 1e-6, "element " + i);
        }
    }

    @Test
    void convStaysFloatByDefaultWithAReasonAndConvIntegerOnRequest() throws Exception {
        OnnxModel f = SampleModels.cnn(3);
        QuantizationResult r = ALL.quantize(f);
        assertEquals(2, count(r.model(), "Conv"));
        NodeDecision conv1 = r.decisions().stream().filter(d -> d.node().equals("conv1")).findFirst().orElseThrow();
        assertEquals("fp32", conv1.precision());
        assertTrue(conv1.reason().contains("ConvInteger"));
        // the Gemm head is still quantized
        assertEquals(1, count(r.model(), "MatMulInteger"));

        OnnxModel ci = new DynamicInt8Quantizer(DynamicInt8Quantizer.Options.DEFAULTS.withMinWeightElements(0)
                .withConvInteger(true)).quantize(f).model();
        assertEquals(2, count(ci, "ConvInteger"));
        double err = relativeError(f, ci, randomFeeds(f, 4, 6));
        assertTrue(err < 0.05, "relative error " + err);
    }

    @Test
    void ifSubgraphsSurviveAndTheModelStillRuns() throws Exception {
        OnnxModel f = SampleModels.ifModel(4);
        OnnxModel q = ALL.quantize(f).model();
        assertEquals(1, count(q, "If"));
        assertEquals(1, count(q, "MatMulInteger"));
        // both branches: sum(x) > 0 and < 0
        for (float sign : new float[] {1f, -1f}) {
            float[] x = new float[8];
            for (int i = 0; i < x.length; i++) {
                x[i] = sign * (0.5f + i * 0.1f) * (i % 3 == 0 ? -0.2f : 1f);
            }
            Map<String, TensorData> feeds = Map.of("x", TensorData.ofFloats("x", new long[] {2, 4}, x));
            assertTrue(relativeError(f, q, feeds) < 0.03);
        }
    }

    @Test
    void perTensorWeightsHaveOneScale() throws Exception {
        OnnxModel f = QTestSupport.twoLayerMatMul(17);
        OnnxModel q = new DynamicInt8Quantizer(DynamicInt8Quantizer.Options.DEFAULTS.withPerChannel(false))
                .quantize(f).model();
        assertEquals(1, q.edit().initializer("w1_scale").elementCount());
        assertTrue(relativeError(f, q, randomFeeds(f, 16, 7)) < 0.05);
    }

    @Test
    void oldOpsetModelIsReturnedUnchangedWithReasons() {
        OnnxModel f = QTestSupport.twoLayerMatMul(10);
        QuantizationResult r = new DynamicInt8Quantizer().quantize(f);
        assertSame(f, r.model());
        assertEquals(2, r.decisions().size());
        assertTrue(r.decisions().stream().allMatch(d -> d.reason().contains("opset 10")));
    }

    @Test
    void smallAndNonConstantWeightsAreLeftFloatWithReasons() {
        OnnxModel f = OnnxBuilder.model("mixed").opset(17)
                .input("a", ElemType.FLOAT, "N", 8)
                .input("b", ElemType.FLOAT, 8, 4)
                .output("y", ElemType.FLOAT, "N", 4)
                .output("z", ElemType.FLOAT, "N", 4)
                .randomInitializer("small", new long[] {8, 4}, 0.3f, 1)
                .node("MatMul").name("act_x_act").in("a", "b").out("y").add()
                .node("MatMul").name("tiny").in("a", "small").out("z").add()
                .build();
        List<NodeDecision> d = new DynamicInt8Quantizer().quantize(f).decisions();
        assertEquals(2, d.size());
        assertTrue(d.get(0).reason().contains("not a constant"), d.get(0).reason());
        assertTrue(d.get(1).reason().contains("not worth it"), d.get(1).reason());
    }
}
