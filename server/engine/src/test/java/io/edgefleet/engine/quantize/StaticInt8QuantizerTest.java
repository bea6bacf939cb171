package io.edgefleet.engine.quantize;

import static io.edgefleet.engine.quantize.QTestSupport.count;
import static io.edgefleet.engine.quantize.QTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.data.DatasetException;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.quantize.calib.Calibrator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class StaticInt8QuantizerTest {

    static Dataset data(String input, long[] sampleShape, int n, long seed) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = n;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        int count = (int) TensorData.countOf(shape);
        return Dataset.of(Map.of(input, TensorData.ofFloats(input, shape, OnnxBuilder.randomNormal(seed, count, 1f))),
                null, null);
    }

    static Map<String, TensorData> feeds(Dataset d, OnnxModel m) {
        return d.feeds(m, 0, d.size());
    }

    @ParameterizedTest
    @EnumSource(Calibrator.Method.class)
    void cnnBecomesQdqWithInt8WeightsAndInt32BiasesAndStaysClose(Calibrator.Method method) throws Exception {
        OnnxModel f = SampleModels.cnn(1);
        Dataset calib = data("x", new long[] {1, 8, 8}, 64, 10);
        QuantizationResult r = new StaticInt8Quantizer(StaticInt8Quantizer.Options.of(method)).quantize(f, calib);
        OnnxModel q = r.model();
        assertTrue(count(q, "QuantizeLinear") >= 4, q.opHistogram().toString());
        var g = q.edit();
        assertEquals(ElemType.INT8, g.initializer("conv1.weight_bnfolded_int8").type());
        assertEquals(ElemType.INT32, g.initializer("conv1.bias_bnfolded_int32").type());
        assertEquals(8, g.initializer("conv1.weight_bnfolded_scale").elementCount(), "per output channel");
        assertFalse(g.isInitializer("conv1.weight") || g.isInitializer("conv1.weight_bnfolded"));
        Dataset val = data("x", new long[] {1, 8, 8}, 32, 99);
        double mean = QTestSupport.meanRelativeError(f, q, feeds(val, f));
        assertTrue(mean < 0.03, method + " mean relative error " + mean);
        if (method != Calibrator.Method.ENTROPY) { // entropy clips the Gaussian input's tails on purpose
            double err = relativeError(f, q, feeds(val, f));
            assertTrue(err < 0.08, method + " relative error " + err);
        }
        assertEquals("static-int8-" + method.name().toLowerCase(), q.metadata().get("edgefleet.quantization"));
    }

    @Test
    void reluAfterAQuantizedOpGetsTheQuantizeSoOrtCanFoldIt() {
        OnnxModel f = SampleModels.mlp(2);
        QuantizationResult r = new StaticInt8Quantizer(StaticInt8Quantizer.Options.of(Calibrator.Method.MINMAX))
                .quantize(f, data("x", new long[] {64}, 32, 3));
        var g = r.model().edit();
        // fc1 -> relu1: the Q reads the Relu output; fc1's raw output is not quantized
        assertTrue(g.consumers("relu1.out").stream().anyMatch(n -> n.getOpType().equals("QuantizeLinear")));
        assertTrue(g.consumers("fc1.out").stream().noneMatch(n -> n.getOpType().equals("QuantizeLinear")));
        // relu range starts at 0: uint8 zero point 0
        assertEquals(0, g.initializer("relu1.out_zero_point").ints()[0]);
        // the logits (graph output) stay float, not re-quantized
        assertTrue(g.consumers("logits").isEmpty());
    }

    @Test
    void ortFusesTheQdqGraphIntoIntegerKernels(@TempDir Path dir) throws Exception {
        OnnxModel f = SampleModels.cnn(1);
        OnnxModel q = new StaticInt8Quantizer(StaticInt8Quantizer.Options.of(Calibrator.Method.MINMAX))
                .quantize(f, data("x", new long[] {1, 8, 8}, 32, 10)).model();
        Path optimized = dir.resolve("optimized.onnx");
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            o.setOptimizedModelFilePath(optimized.toString());
            try (OrtSession s = OrtEnvironment.getEnvironment().createSession(q.toBytes(), o)) {
                assertEquals(1, s.getNumOutputs());
            }
        }
        Map<String, Integer> ops = OnnxModel.read(Files.readAllBytes(optimized)).opHistogram();
        assertEquals(2, ops.getOrDefault("com.microsoft:QLinearConv", 0), ops.toString());
        assertEquals(1, ops.getOrDefault("com.microsoft:QGemm", 0), ops.toString());
        assertEquals(1, ops.getOrDefault("com.microsoft:QLinearAdd", 0), ops.toString());
        // batch norms were folded into the convolutions before quantization
        assertEquals(0, ops.getOrDefault("BatchNormalization", 0), ops.toString());
        assertEquals(0, ops.getOrDefault("Conv", 0), ops.toString());
    }

    @Test
    void excludedNodesStayFloat() throws Exception {
        OnnxModel f = SampleModels.cnn(1);
        QuantizationResult r = new StaticInt8Quantizer(StaticInt8Quantizer.Options.of(Calibrator.Method.MINMAX)
                .excluding(Set.of("conv2"))).quantize(f, data("x", new long[] {1, 8, 8}, 32, 10));
        var g = r.model().edit();
        assertTrue(g.isInitializer("conv2.weight_bnfolded"), "conv2 keeps its (BN-folded) float weight");
        assertTrue(g.isInitializer("conv1.weight_bnfolded_int8"));
        NodeDecision d = r.decisions().stream().filter(x -> x.node().equals("conv2")).findFirst().orElseThrow();
        assertEquals("fp32", d.precision());
        assertTrue(relativeError(f, r.model(), feeds(data("x", new long[] {1, 8, 8}, 16, 5), f)) < 0.08);
    }

    @Test
    void matMulTransformerLayoutAndIfModelQuantize() throws Exception {
        OnnxModel f = QTestSupport.twoLayerMatMul(17);
        OnnxModel q = new StaticInt8Quantizer(StaticInt8Quantizer.Options.of(Calibrator.Method.PERCENTILE))
                .quantize(f, data("x", new long[] {64}, 64, 4)).model();
        assertEquals(ElemType.INT8, q.edit().initializer("w1_int8").type());
        assertTrue(relativeError(f, q, feeds(data("x", new long[] {64}, 16, 6), f)) < 0.08);

        OnnxModel iff = SampleModels.ifModel(3);
        OnnxModel qi = new StaticInt8Quantizer(StaticInt8Quantizer.Options.of(Calibrator.Method.MINMAX))
                .quantize(iff, data("x", new long[] {4}, 32, 8)).model();
        assertEquals(1, count(qi, "If"));
        assertTrue(relativeError(iff, qi, feeds(data("x", new long[] {4}, 16, 9), iff)) < 0.08);
    }

    @Test
    void calibrationDataThatDoesNotFitIsRefusedWithAReason() {
        OnnxModel f = SampleModels.mlp(2);
        Dataset wrong = data("not_x", new long[] {64}, 8, 1);
        DatasetException e = assertThrows(DatasetException.class,
                () -> new StaticInt8Quantizer(StaticInt8Quantizer.Options.of(Calibrator.Method.ENTROPY)).quantize(f, wrong));
        assertTrue(e.getMessage().contains("missing array 'x'"), e.getMessage());
    }
}
