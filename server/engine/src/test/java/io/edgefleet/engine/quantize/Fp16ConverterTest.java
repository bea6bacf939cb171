package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QTestSupport.randomFeeds;
import static io.edgefleet.engine.quantize.QTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Fp16ConverterTest {

    private static void assertBoundariesStayFloat(OnnxModel f, OnnxModel h) {
        assertEquals(f.inputs(), h.inputs());
        for (ValueInfo o : h.outputs()) {
            assertEquals(ElemType.FLOAT, o.type(), o.name());
        }
    }

    /** No float32 initializer with more than a handful of elements is left: weights are stored as float16. */
    private static void assertWeightsAreHalf(OnnxModel h) {
        for (TensorProto t : h.proto().getGraph().getInitializerList()) {
            long n = 1;
            for (long d : t.getDimsList()) {
                n *= d;
            }
            assertFalse(t.getDataType() == ElemType.FLOAT.code() && n >= 16, t.getName() + " is still float32");
        }
    }

    @Test
    void cnnConvertsWithTightErrorAndHalfTheWeightBytes(@TempDir Path dir) throws Exception {
        OnnxModel f = SampleModels.cnn(1);
        QuantizationResult r = new Fp16Converter().convert(f);
        OnnxModel h = r.model();
        assertBoundariesStayFloat(f, h);
        assertWeightsAreHalf(h);
        double err = relativeError(f, h, randomFeeds(f, 8, 1));
        assertTrue(err < 5e-3, "relative error " + err);
        assertEquals("fp16", h.metadata().get("edgefleet.quantization"));
        // every op left in float16 really has a float16 kernel: ORT inserted no fallback casts of its own
        assertNoOrtFallbackCasts(h, dir);
        assertTrue(r.decisions().stream().anyMatch(d -> d.precision().equals("fp16")), r.decisions().toString());
    }

    /**
     * Storage-only: the same half-size file, but every op computes in float32; once ONNX Runtime has folded the weight
     * Casts at load time the optimized graph holds no float16 value and no Cast at all.
     */
    @Test
    void storageOnlyHalvesTheFileAndComputesInFloat32(@TempDir Path dir) throws Exception {
        OnnxModel f = QTestSupport.twoLayerMatMul(17);
        QuantizationResult r = Fp16Converter.storageOnly().convert(f);
        OnnxModel h = r.model();
        assertBoundariesStayFloat(f, h);
        assertWeightsAreHalf(h);
        assertEquals("fp16-storage", h.metadata().get("edgefleet.quantization"));
        assertTrue(h.sizeBytes() < f.sizeBytes() * 0.6, h.sizeBytes() + " vs " + f.sizeBytes());
        assertTrue(relativeError(f, h, randomFeeds(f, 8, 3)) < 2e-3);
        assertTrue(r.decisions().stream().allMatch(d -> d.precision().equals("fp32")
                && d.reason().contains("storage-only")), r.decisions().toString());
        Path opt = dir.resolve("opt.onnx");
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
            o.setOptimizedModelFilePath(opt.toString());
            OrtEnvironment.getEnvironment().createSession(h.toBytes(), o).close();
        }
        ModelProto optimized = ModelProto.parseFrom(Files.readAllBytes(opt));
        assertFalse(optimized.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("Cast")),
                "weight Casts are folded at load");
        assertFalse(optimized.getGraph().getInitializerList().stream()
                .anyMatch(t -> t.getDataType() == ElemType.FLOAT16.code()), "no float16 tensor left in memory");
    }

    @Test
    void matMulModelAndIfModel(@TempDir Path dir) throws Exception {
        OnnxModel f = QTestSupport.twoLayerMatMul(17);
        OnnxModel h = new Fp16Converter().convert(f).model();
        assertBoundariesStayFloat(f, h);
        assertTrue(relativeError(f, h, randomFeeds(f, 8, 2)) < 5e-3);
        assertTrue(h.sizeBytes() < f.sizeBytes() * 0.6, h.sizeBytes() + " vs " + f.sizeBytes());
        assertNoOrtFallbackCasts(h, dir);

        OnnxModel iff = SampleModels.ifModel(2);
        QuantizationResult ri = new Fp16Converter().convert(iff);
        assertEquals(1, ri.model().opHistogram().get("If"));
        NodeDecision ifDecision = ri.decisions().stream().filter(d -> d.opType().equals("If")).findFirst().orElseThrow();
        assertEquals("fp32", ifDecision.precision());
        for (float sign : new float[] {1f, -1f}) {
            float[] x = {sign, 2 * sign, 0.5f, -0.25f, sign, sign, 1f, sign};
            Map<String, TensorData> feeds = Map.of("x", TensorData.ofFloats("x", new long[] {2, 4}, x));
            assertTrue(relativeError(iff, ri.model(), feeds) < 5e-3);
        }
    }

    @Test
    void float32LowestAsMaskValueSaturatesInsteadOfTurningIntoNaN() throws Exception {
        // BERT exports: (1 - mask) * float32.lowest added to scores; as a float16 infinity, 0 * -inf = NaN
        OnnxModel f = io.edgefleet.engine.onnx.OnnxBuilder.model("mask").opset(17)
                .input("x", ElemType.FLOAT, "N", 4)
                .input("keep", ElemType.FLOAT, "N", 4)
                .output("y", ElemType.FLOAT, "N", 4)
                .initializer("one", new long[0], 1f)
                .initializer("lowest", new long[0], -Float.MAX_VALUE)
                .node("Sub").name("inv").in("one", "keep").out("inv.out").add()
                .node("Mul").name("big").in("inv.out", "lowest").out("bias").add()
                .node("Add").name("masked").in("x", "bias").out("scores").add()
                .node("Softmax").name("sm").in("scores").out("y").attr("axis", -1L).add()
                .build();
        OnnxModel h = new Fp16Converter(0).convert(f).model();
        Map<String, TensorData> feeds = Map.of(
                "x", TensorData.ofFloats("x", new long[] {1, 4}, new float[] {0.5f, 1f, -1f, 2f}),
                "keep", TensorData.ofFloats("keep", new long[] {1, 4}, new float[] {1f, 1f, 0f, 1f}));
        float[] y = QTestSupport.run(h, feeds).get(0);
        for (float v : y) {
            assertFalse(Float.isNaN(v));
        }
        assertTrue(relativeError(f, h, feeds) < 5e-3);
    }

    @Test
    void typesAreInferredByOnnxRuntime() {
        Map<String, ElemType> t = Fp16Converter.inferTypes(SampleModels.ifModel(1));
        assertEquals(ElemType.FLOAT, t.get("h"));
        assertEquals(ElemType.BOOL, t.get("cond"));
        assertEquals(ElemType.FLOAT, t.get("branch.out"));
    }

    static void assertNoOrtFallbackCasts(OnnxModel m, Path dir) throws Exception {
        Path out = dir.resolve("optimized-" + System.nanoTime() + ".onnx");
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            o.setOptimizedModelFilePath(out.toString());
            try (OrtSession s = OrtEnvironment.getEnvironment().createSession(m.toBytes(), o)) {
                s.getNumInputs();
            }
        }
        List<NodeProto> nodes = ModelProto.parseFrom(Files.readAllBytes(out)).getGraph().getNodeList();
        for (NodeProto n : nodes) {
            assertFalse(n.getName().startsWith("InsertedPrecisionFreeCast"), "ORT had to fall back: " + n.getName());
        }
    }
}
