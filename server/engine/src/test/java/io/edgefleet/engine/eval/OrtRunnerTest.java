package io.edgefleet.engine.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OrtRunnerTest {

    static Dataset mlpData(int n, long seed) {
        return Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {n, 64},
                OnnxBuilder.randomUniform(seed, n * 64, 0, 1))), null, null);
    }

    /** relu(x W1^T + b1) W2^T + b2 by hand, from the model's own initializers. */
    static float[] mlpReference(OnnxModel m, float[] x) {
        Graph g = m.edit();
        float[] w1 = g.initializer("fc1.weight").floats();
        float[] b1 = g.initializer("fc1.bias").floats();
        float[] w2 = g.initializer("fc2.weight").floats();
        float[] b2 = g.initializer("fc2.bias").floats();
        float[] h = new float[32];
        for (int j = 0; j < 32; j++) {
            double s = b1[j];
            for (int k = 0; k < 64; k++) {
                s += x[k] * w1[j * 64 + k];
            }
            h[j] = (float) Math.max(0, s);
        }
        float[] out = new float[10];
        for (int j = 0; j < 10; j++) {
            double s = b2[j];
            for (int k = 0; k < 32; k++) {
                s += h[k] * w2[j * 32 + k];
            }
            out[j] = (float) s;
        }
        return out;
    }

    @Test
    void runsAndMatchesAHandComputation() {
        OnnxModel m = SampleModels.mlp(11);
        Dataset d = mlpData(3, 1);
        try (OrtRunner r = OrtRunner.open(m, OrtRunner.Options.defaults().withThreads(2))) {
            Map<String, TensorData> out = r.run(d.feeds(m, 0, 3));
            TensorData logits = out.get("logits");
            assertArrayEquals(new long[] {3, 10}, logits.shape());
            float[] x = d.input("x").floats();
            for (int s = 0; s < 3; s++) {
                float[] ref = mlpReference(m, java.util.Arrays.copyOfRange(x, s * 64, s * 64 + 64));
                for (int j = 0; j < 10; j++) {
                    assertEquals(ref[j], logits.floats()[s * 10 + j], 1e-4);
                }
            }
        }
    }

    @Test
    void runFloatsForSingleInputModels() {
        OnnxModel m = SampleModels.mlp(11);
        float[] x = OnnxBuilder.randomUniform(3, 128, 0, 1);
        try (OrtRunner r = OrtRunner.open(m)) {
            float[] out = r.runFloats(x, 2, 64);
            assertEquals(20, out.length);
            float[] ref = mlpReference(m, java.util.Arrays.copyOfRange(x, 64, 128));
            assertEquals(ref[3], out[13], 1e-4);
        }
    }

    @Test
    void capturesIntermediateValuesPerSample() {
        OnnxModel m = SampleModels.mlp(11);
        Dataset d = mlpData(5, 2);
        Map<String, float[][]> acts = OrtRunner.captureActivations(m, d, List.of("relu1.out", "x", "logits"), 4);
        assertEquals(4, acts.get("relu1.out").length, "maxSamples caps the capture");
        assertEquals(32, acts.get("relu1.out")[0].length);
        for (float v : acts.get("relu1.out")[2]) {
            assertTrue(v >= 0);
        }
        assertArrayEquals(java.util.Arrays.copyOfRange(d.input("x").floats(), 3 * 64, 4 * 64), acts.get("x")[3]);
        float[] ref = mlpReference(m, acts.get("x")[1]);
        for (int j = 0; j < 10; j++) {
            assertEquals(ref[j], acts.get("logits")[1][j], 1e-4);
        }
    }

    @Test
    void streamingVisitsBatchesInOrder() {
        OnnxModel m = SampleModels.cnn(1);
        Dataset d = Dataset.of(Map.of("x", TensorData.ofFloats("x", new long[] {7, 1, 8, 8},
                OnnxBuilder.randomUniform(4, 7 * 64, -1, 1))), null, null);
        List<int[]> batches = new ArrayList<>();
        OrtRunner.streamActivations(m, d, List.of("conv2.out", "gap.out"), 100, OrtRunner.Options.defaults(), 3,
                (first, count, values) -> {
                    batches.add(new int[] {first, count});
                    assertArrayEquals(new long[] {count, 8, 8, 8}, values.get("conv2.out").shape());
                    assertArrayEquals(new long[] {count, 8, 1, 1}, values.get("gap.out").shape());
                });
        assertEquals(List.of(List.of(0, 3), List.of(3, 3), List.of(6, 1)),
                batches.stream().map(b -> List.of(b[0], b[1])).toList());
    }

    @Test
    void valuesThatCannotBeCapturedAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> OrtRunner.exposeValues(SampleModels.mlp(1), List.of("no.such.value")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OrtRunner.exposeValues(SampleModels.ifModel(1), List.of("then.relu.out")));
        assertTrue(e.getMessage().contains("If/Loop"), e.getMessage());
    }

    @Test
    void exposingValuesInTheIfModelKeepsItValid() {
        OnnxModel exposed = OrtRunner.exposeValues(SampleModels.ifModel(1), List.of("h", "cond", "branch.out"));
        try (OrtRunner r = OrtRunner.open(exposed)) {
            Map<String, TensorData> out = r.run(Map.of("x", TensorData.ofFloats("x", new long[] {1, 4},
                    new float[] {1, 1, 1, 1})));
            assertEquals(ElemType.BOOL, out.get("cond").type());
            assertEquals(1, out.get("cond").ints()[0]);
            assertArrayEquals(new long[] {1, 8}, out.get("h").shape());
        }
    }

    @Test
    void probesShapesOfEveryValue() {
        OnnxModel m = SampleModels.cnn(1);
        Map<String, long[]> shapes = OrtRunner.probeShapes(m, OrtRunner.syntheticFeeds(m),
                OrtRunner.Options.defaults());
        assertArrayEquals(new long[] {1, 1, 8, 8}, shapes.get("x"));
        assertArrayEquals(new long[] {1, 8, 8, 8}, shapes.get("conv1.out"));
        assertArrayEquals(new long[] {1, 8}, shapes.get("flat"));
        assertArrayEquals(new long[] {8, 8, 3, 3}, shapes.get("conv2.weight"));
        assertArrayEquals(new long[] {1, 10}, shapes.get("logits"));
    }

    @Test
    void aModelOnnxRuntimeRefusesGivesModelLoadException() {
        ModelProto.Builder b = SampleModels.mlp(1).proto().toBuilder();
        b.getGraphBuilder().setNode(1, NodeProto.newBuilder().setOpType("NoSuchOp").setName("bad")
                .addInput("fc1.out").addOutput("relu1.out"));
        ModelLoadException e = assertThrows(ModelLoadException.class,
                () -> OrtRunner.open(OnnxModel.of(b.build())));
        assertTrue(e.getMessage().contains("NoSuchOp"), e.getMessage());
    }

    @Test
    void runtimeShapeErrorsAreEngineExceptions() {
        try (OrtRunner r = OrtRunner.open(SampleModels.mlp(1))) {
            EngineException e = assertThrows(EngineException.class, () -> r.run(Map.of("x",
                    TensorData.ofFloats("x", new long[] {1, 63}, new float[63]))));
            assertTrue(e.getMessage().contains("failed to run"), e.getMessage());
        }
    }

    @Test
    void feedsAndReadsOtherElementTypes() {
        OnnxModel m = OnnxBuilder.model("types").input("a", ElemType.INT64, 3).input("b", ElemType.FLOAT16, 3)
                .input("c", ElemType.UINT8, 3)
                .output("a2", ElemType.INT64, 3).output("b2", ElemType.FLOAT16, 3).output("c2", ElemType.UINT8, 3)
                .node("Identity").in("a").out("a2").add()
                .node("Identity").in("b").out("b2").add()
                .node("Identity").in("c").out("c2").add()
                .build();
        try (OrtRunner r = OrtRunner.open(m)) {
            Map<String, TensorData> out = r.run(Map.of(
                    "a", TensorData.ofInt64("a", new long[] {3}, new long[] {-5, 0, Long.MAX_VALUE}),
                    "b", TensorData.ofFloat16("b", new long[] {3}, new float[] {0.1f, -2f, 65504f}),
                    "c", TensorData.ofInts("c", ElemType.UINT8, new long[] {3}, new int[] {0, 128, 255})));
            assertArrayEquals(new long[] {-5, 0, Long.MAX_VALUE}, out.get("a2").longs());
            assertEquals(TensorData.ofFloat16("b2", new long[] {3}, new float[] {0.1f, -2f, 65504f}), out.get("b2"));
            assertArrayEquals(new int[] {0, 128, 255}, out.get("c2").ints());
        }
    }
}
