package io.edgefleet.engine.recalib;

import static io.edgefleet.engine.prune.PruneFixtures.assertClose;
import static io.edgefleet.engine.prune.PruneFixtures.outputs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.prune.PruneFixtures;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LinearLayerTest {

    /** y = x Wᵀ + b computed in Java from a layer's matrix view, for comparison with ONNX Runtime. */
    static float[] forward(float[] x, int rows, float[] w, float[] b, int outs, int ins) {
        float[] y = new float[rows * outs];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outs; o++) {
                double s = b[o];
                for (int i = 0; i < ins; i++) {
                    s += x[r * ins + i] * w[o * ins + i];
                }
                y[r * outs + o] = (float) s;
            }
        }
        return y;
    }

    @Test
    void matrixViewMatchesWhatOnnxRuntimeComputesForEveryLayout() {
        OnnxModel m = OnnxBuilder.model("layouts").opset(17)
                .input("x", ElemType.FLOAT, "N", 6)
                .output("y1", ElemType.FLOAT, "N", 4).output("y2", ElemType.FLOAT, "N", 4)
                .output("y3", ElemType.FLOAT, "N", 4)
                .randomInitializer("wt", new long[] {4, 6}, 0.5f, 1)
                .randomInitializer("w", new long[] {6, 4}, 0.5f, 2)
                .randomInitializer("c", new long[] {1, 4}, 0.5f, 3)
                .randomInitializer("b3", new long[] {4}, 0.5f, 4)
                .randomInitializer("w3", new long[] {6, 4}, 0.5f, 5)
                .node("Gemm").name("transB").in("x", "wt").out("y1").attr("transB", 1).attr("alpha", 0.5f).add()
                .node("Gemm").name("plain").in("x", "w", "c").out("y2").attr("beta", 2f).add()
                .node("MatMul").name("mm").in("x", "w3").out("mm.out").add()
                .node("Add").name("mm_bias").in("mm.out", "b3").out("y3").add()
                .build();
        Graph g = m.edit();
        Dataset data = PruneFixtures.randomData(m, 5, 11);
        float[] x = data.input("x").floats();
        List<LinearLayer> layers = LinearLayer.findAll(g);
        assertEquals(3, layers.size());
        try (var r = io.edgefleet.engine.eval.OrtRunner.open(m)) {
            Map<String, TensorData> out = r.run(data.feeds(m, 0, 5));
            for (LinearLayer l : layers) {
                float[] expected = out.get(l.output()).floats();
                assertClose(expected, forward(x, 5, l.weightMatrix(g), l.biasVector(g), 4, 6), 1e-5);
            }
        }
        LinearLayer mm = layers.get(2);
        assertEquals("mm_bias", mm.biasNode().getName());
        assertEquals("y3", mm.output());
        // withMatrix is the inverse of weightMatrix, whatever the storage layout and alpha.
        for (LinearLayer l : layers) {
            assertArrayEquals(g.initializer(l.weight()).floats(), l.withMatrix(g, l.weightMatrix(g)).floats(), 1e-6f);
        }
    }

    @Test
    void writingABiasIntoLayersWithoutOneWiresANewInitializer() {
        OnnxModel m = OnnxBuilder.model("nobias").opset(17)
                .input("x", ElemType.FLOAT, "N", 3)
                .output("y", ElemType.FLOAT, "N", 2).output("z", ElemType.FLOAT, "N", 2)
                .randomInitializer("w", new long[] {3, 2}, 0.5f, 1)
                .randomInitializer("g", new long[] {2, 3}, 0.5f, 2)
                .node("MatMul").name("mm").in("x", "w").out("y").add()
                .node("Gemm").name("gemm").in("x", "g").out("z").attr("transB", 1).add()
                .build();
        Graph g = m.edit();
        for (LinearLayer l : LinearLayer.findAll(g)) {
            LinearLayer now = LeastSquaresReconstruction.findLayer(g, l.name());
            now.write(g, now.weightMatrix(g), new float[] {1f, -2f});
        }
        OnnxModel out = g.toModel();
        Dataset data = PruneFixtures.randomData(m, 4, 3);
        float[] before = outputs(m, data);
        float[] after = outputs(out, data);
        for (int i = 0; i < before.length; i++) {
            assertEquals(before[i] + (i % 2 == 0 ? 1f : -2f), after[i], 1e-5);
        }
        LinearLayer mm = LeastSquaresReconstruction.findLayer(out.edit(), "mm");
        assertNotNull(mm.bias(), "the MatMul got an Add with the bias");
        assertTrue(out.edit().isGraphOutput(mm.output()), "the output name is kept");
    }

    @Test
    void convolutionMatrixIsTheWeightTensorRowByRow() {
        OnnxModel m = io.edgefleet.engine.onnx.SampleModels.cnn(3);
        Graph g = m.edit();
        LinearLayer conv2 = LeastSquaresReconstruction.findLayer(g, "conv2");
        assertEquals(8, conv2.outFeatures());
        assertEquals(72, conv2.inFeatures());
        assertArrayEquals(g.initializer("conv2.weight").floats(), conv2.weightMatrix(g));
        assertEquals(LinearLayer.Kind.CONV, conv2.kind());
        assertTrue(conv2.im2colSupported());
    }
}
