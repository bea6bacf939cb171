package io.edgefleet.engine.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test models built in code, data for them, and comparisons through ONNX Runtime. Shared by the prune, recalib and
 * lowrank tests. */
public final class PruneFixtures {
    /** {@code -Dedgefleet.digits=DIR} if given, else the shared fixtures found like every other test's. */
    public static final Path DIGITS = System.getProperty("edgefleet.digits") != null
            ? Path.of(System.getProperty("edgefleet.digits")) : io.edgefleet.engine.TestFixtures.digits();

    private PruneFixtures() {
    }

    public static boolean digitsPresent() {
        return Files.exists(DIGITS.resolve("digits-resnet.onnx")) && Files.exists(DIGITS.resolve("digits-mlp.onnx"));
    }

    /**
     * x[N,3,8,8] -> conv1(16)+BN+Relu -> conv2(16)+BN -> Add(residual) -> Relu -> conv3(32, stride 2) -> Relu
     * -> depthwise conv (32) -> Relu -> Concat(conv3 branch, depthwise branch) -> conv4 1x1 (24) -> Relu -> Flatten
     * (24 x 4 x 4) -> Gemm(10) -> logits. Residual coupling, BatchNorm, depthwise pass-through, Concat segments and
     * a Flatten whose channels are blocks of 16 features, in one model. Intermediate value_info is declared so the
     * pruner has shapes to rewrite.
     */
    public static OnnxModel residualCnn(long seed) {
        OnnxBuilder b = OnnxBuilder.model("residual_cnn").opset(17)
                .input("x", ElemType.FLOAT, "N", 3, 8, 8)
                .output("logits", ElemType.FLOAT, "N", 10)
                .valueInfo("relu1.out", ElemType.FLOAT, "N", 16, 8, 8)
                .valueInfo("res.out", ElemType.FLOAT, "N", 16, 8, 8)
                .valueInfo("cat.out", ElemType.FLOAT, "N", 64, 4, 4)
                .valueInfo("flat", ElemType.FLOAT, "N", 384)
                .heInitializer("conv1.w", new long[] {16, 3, 3, 3}, 27, seed)
                .randomInitializer("conv1.b", new long[] {16}, 0.05f, seed + 1)
                .heInitializer("conv2.w", new long[] {16, 16, 3, 3}, 144, seed + 2)
                .randomInitializer("conv2.b", new long[] {16}, 0.05f, seed + 3)
                .heInitializer("conv3.w", new long[] {32, 16, 3, 3}, 144, seed + 4)
                .randomInitializer("conv3.b", new long[] {32}, 0.05f, seed + 5)
                .heInitializer("dw.w", new long[] {32, 1, 3, 3}, 9, seed + 6)
                .randomInitializer("dw.b", new long[] {32}, 0.05f, seed + 7)
                .heInitializer("conv4.w", new long[] {24, 64, 1, 1}, 64, seed + 8)
                .randomInitializer("conv4.b", new long[] {24}, 0.05f, seed + 9)
                .heInitializer("fc.w", new long[] {10, 384}, 384, seed + 10)
                .randomInitializer("fc.b", new long[] {10}, 0.05f, seed + 11);
        SampleModels.batchNormParams(b, "bn1", 16, seed + 20);
        SampleModels.batchNormParams(b, "bn2", 16, seed + 30);
        return b
                .node("Conv").name("conv1").in("x", "conv1.w", "conv1.b").out("conv1.out")
                        .ints("kernel_shape", 3, 3).ints("pads", 1, 1, 1, 1).add()
                .node("BatchNormalization").name("bn1").in("conv1.out", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var")
                        .out("bn1.out").attr("epsilon", 1e-5f).add()
                .node("Relu").name("relu1").in("bn1.out").out("relu1.out").add()
                .node("Conv").name("conv2").in("relu1.out", "conv2.w", "conv2.b").out("conv2.out")
                        .ints("kernel_shape", 3, 3).ints("pads", 1, 1, 1, 1).add()
                .node("BatchNormalization").name("bn2").in("conv2.out", "bn2.scale", "bn2.bias", "bn2.mean", "bn2.var")
                        .out("bn2.out").attr("epsilon", 1e-5f).add()
                .node("Add").name("residual").in("bn2.out", "relu1.out").out("res.out").add()
                .node("Relu").name("relu2").in("res.out").out("relu2.out").add()
                .node("Conv").name("conv3").in("relu2.out", "conv3.w", "conv3.b").out("conv3.out")
                        .ints("kernel_shape", 3, 3).ints("pads", 1, 1, 1, 1).ints("strides", 2, 2).add()
                .node("Relu").name("relu3").in("conv3.out").out("relu3.out").add()
                .node("Conv").name("dw").in("relu3.out", "dw.w", "dw.b").out("dw.out")
                        .ints("kernel_shape", 3, 3).ints("pads", 1, 1, 1, 1).attr("group", 32).add()
                .node("Relu").name("relu_dw").in("dw.out").out("relu_dw.out").add()
                .node("Concat").name("cat").in("relu3.out", "relu_dw.out").out("cat.out").attr("axis", 1).add()
                .node("Conv").name("conv4").in("cat.out", "conv4.w", "conv4.b").out("conv4.out")
                        .ints("kernel_shape", 1, 1).add()
                .node("Relu").name("relu4").in("conv4.out").out("relu4.out").add()
                .node("Flatten").name("flatten").in("relu4.out").out("flat").attr("axis", 1).add()
                .node("Gemm").name("fc").in("flat", "fc.w", "fc.b").out("logits").attr("transB", 1).add()
                .build();
    }

    /** x[N,4,6,6] -> conv(8) -> Relu -> grouped conv (group 2, 8 out) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(3). */
    public static OnnxModel groupedCnn(long seed) {
        return OnnxBuilder.model("grouped").opset(17)
                .input("x", ElemType.FLOAT, "N", 4, 6, 6)
                .output("y", ElemType.FLOAT, "N", 3)
                .heInitializer("c1.w", new long[] {8, 4, 3, 3}, 36, seed)
                .heInitializer("g.w", new long[] {8, 4, 3, 3}, 36, seed + 1)
                .randomInitializer("g.b", new long[] {8}, 0.05f, seed + 2)
                .heInitializer("fc.w", new long[] {3, 8}, 8, seed + 3)
                .node("Conv").name("c1").in("x", "c1.w").out("c1.out").ints("pads", 1, 1, 1, 1).add()
                .node("Relu").name("r1").in("c1.out").out("r1.out").add()
                .node("Conv").name("g").in("r1.out", "g.w", "g.b").out("g.out").ints("pads", 1, 1, 1, 1)
                        .attr("group", 2).add()
                .node("Relu").name("r2").in("g.out").out("r2.out").add()
                .node("GlobalAveragePool").name("gap").in("r2.out").out("gap.out").add()
                .node("Flatten").name("flat").in("gap.out").out("flat.out").add()
                .node("Gemm").name("fc").in("flat.out", "fc.w").out("y").attr("transB", 1).add()
                .build();
    }

    /**
     * x[N,4] -> Gemm(16) -> Relu -> Gemm(8) = h; If(sum(x) > 0) then 2*Relu(h) else Sigmoid(h); y = that + bias. The
     * first group (16) is prunable, h is read by the If bodies and must stay whole.
     */
    public static OnnxModel mlpWithIf(long seed) {
        GraphProto thenBranch = SampleModels.ifThenBranch();
        GraphProto elseBranch = SampleModels.ifElseBranch();
        return OnnxBuilder.model("mlp_if").opset(17)
                .input("x", ElemType.FLOAT, "N", 4)
                .output("y", ElemType.FLOAT, "N", 8)
                .heInitializer("w1", new long[] {16, 4}, 4, seed)
                .randomInitializer("b1", new long[] {16}, 0.05f, seed + 1)
                .heInitializer("w2", new long[] {8, 16}, 16, seed + 2)
                .randomInitializer("bias", new long[] {8}, 0.05f, seed + 3)
                .initializer("zero", new long[0], 0f)
                .node("Gemm").name("fc1").in("x", "w1", "b1").out("fc1.out").attr("transB", 1).add()
                .node("Relu").name("relu1").in("fc1.out").out("relu1.out").add()
                .node("Gemm").name("fc2").in("relu1.out", "w2").out("h").attr("transB", 1).add()
                .node("ReduceSum").name("sum").in("x").out("s").attr("keepdims", 0).add()
                .node("Greater").name("positive").in("s", "zero").out("cond").add()
                .node("If").name("branch").in("cond").out("branch.out")
                        .attr("then_branch", thenBranch).attr("else_branch", elseBranch).add()
                .node("Add").name("add_bias").in("branch.out", "bias").out("y").add()
                .build();
    }

    /** N samples of uniform [0, 1) inputs for every float input of the model (symbolic dims become 1). */
    public static Dataset randomData(OnnxModel model, int n, long seed) {
        Map<String, TensorData> arrays = new LinkedHashMap<>();
        long k = 0;
        for (var in : model.inputs()) {
            long[] dims = in.staticDims();
            dims[0] = n;
            for (int i = 1; i < dims.length; i++) {
                dims[i] = dims[i] < 0 ? 1 : dims[i];
            }
            int count = (int) TensorData.countOf(dims);
            arrays.put(in.name(), TensorData.ofFloats(in.name(), dims,
                    OnnxBuilder.randomUniform(seed + k++, count, 0f, 1f)));
        }
        return Dataset.of(arrays, null, null);
    }

    /** The model's first output for every sample of {@code data}, in one run. */
    public static float[] outputs(OnnxModel model, Dataset data) {
        try (OrtRunner r = OrtRunner.open(model)) {
            String out = model.outputs().get(0).name();
            return r.run(data.feeds(model, 0, data.size()), List.of(out)).get(out).floats();
        }
    }

    public static void assertClose(float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, "output sizes differ");
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(max <= tolerance, "outputs differ by up to " + max + " (tolerance " + tolerance + ")");
    }

    /** ||a - b||² / ||b||². */
    public static double relativeError(float[] actual, float[] reference) {
        double err = 0;
        double ref = 0;
        for (int i = 0; i < actual.length; i++) {
            err += (actual[i] - reference[i]) * (double) (actual[i] - reference[i]);
            ref += reference[i] * (double) reference[i];
        }
        return err / ref;
    }
}
