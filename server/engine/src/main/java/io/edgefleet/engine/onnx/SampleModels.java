package io.edgefleet.engine.onnx;

import ai.onnx.proto.OnnxMl.GraphProto;

/**
 * Small deterministic models built in code, for tests and demos. Weights come from a seed, so a model (and its
 * sha256) is the same on every run. All take a symbolic batch dimension "N" and output float32 logits.
 */
public final class SampleModels {
    private SampleModels() {}

    /** x[N,64] -> Gemm(32) -> Relu -> Gemm(10) -> logits[N,10]: the shape of an 8x8-digits classifier. */
    public static OnnxModel mlp(long seed) {
        return OnnxBuilder.model("mlp").opset(17)
                .metadata("edgefleet.sample", "mlp")
                .input("x", ElemType.FLOAT, "N", 64)
                .output("logits", ElemType.FLOAT, "N", 10)
                .heInitializer("fc1.weight", new long[] {32, 64}, 64, seed)
                .randomInitializer("fc1.bias", new long[] {32}, 0.05f, seed + 1)
                .heInitializer("fc2.weight", new long[] {10, 32}, 32, seed + 2)
                .randomInitializer("fc2.bias", new long[] {10}, 0.05f, seed + 3)
                .node("Gemm").name("fc1").in("x", "fc1.weight", "fc1.bias").out("fc1.out").attr("transB", 1).add()
                .node("Relu").name("relu1").in("fc1.out").out("relu1.out").add()
                .node("Gemm").name("fc2").in("relu1.out", "fc2.weight", "fc2.bias").out("logits").attr("transB", 1).add()
                .build();
    }

    /**
     * x[N,1,8,8] -> Conv(8,3x3)+BN+Relu -> Conv(8,3x3)+BN -> Add(residual) -> Relu -> GlobalAveragePool -> Flatten
     * -> Gemm(10) -> logits[N,10]. A miniature ResNet block.
     */
    public static OnnxModel cnn(long seed) {
        OnnxBuilder b = OnnxBuilder.model("cnn").opset(17)
                .metadata("edgefleet.sample", "cnn")
                .input("x", ElemType.FLOAT, "N", 1, 8, 8)
                .output("logits", ElemType.FLOAT, "N", 10)
                .heInitializer("conv1.weight", new long[] {8, 1, 3, 3}, 9, seed)
                .randomInitializer("conv1.bias", new long[] {8}, 0.05f, seed + 1)
                .heInitializer("conv2.weight", new long[] {8, 8, 3, 3}, 72, seed + 2)
                .randomInitializer("conv2.bias", new long[] {8}, 0.05f, seed + 3)
                .heInitializer("fc.weight", new long[] {10, 8}, 8, seed + 4)
                .randomInitializer("fc.bias", new long[] {10}, 0.05f, seed + 5);
        batchNormParams(b, "bn1", 8, seed + 10);
        batchNormParams(b, "bn2", 8, seed + 20);
        return b
                .node("Conv").name("conv1").in("x", "conv1.weight", "conv1.bias").out("conv1.out")
                        .ints("kernel_shape", 3, 3).ints("pads", 1, 1, 1, 1).add()
                .node("BatchNormalization").name("bn1").in("conv1.out", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var")
                        .out("bn1.out").attr("epsilon", 1e-5f).add()
                .node("Relu").name("relu1").in("bn1.out").out("relu1.out").add()
                .node("Conv").name("conv2").in("relu1.out", "conv2.weight", "conv2.bias").out("conv2.out")
                        .ints("kernel_shape", 3, 3).ints("pads", 1, 1, 1, 1).add()
                .node("BatchNormalization").name("bn2").in("conv2.out", "bn2.scale", "bn2.bias", "bn2.mean", "bn2.var")
                        .out("bn2.out").attr("epsilon", 1e-5f).add()
                .node("Add").name("residual").in("bn2.out", "relu1.out").out("residual.out").add()
                .node("Relu").name("relu2").in("residual.out").out("relu2.out").add()
                .node("GlobalAveragePool").name("gap").in("relu2.out").out("gap.out").add()
                .node("Flatten").name("flatten").in("gap.out").out("flat").attr("axis", 1).add()
                .node("Gemm").name("fc").in("flat", "fc.weight", "fc.bias").out("logits").attr("transB", 1).add()
                .build();
    }

    /** BatchNorm parameters {@code prefix.scale/.bias/.mean/.var} for {@code channels}: scale near 1, var in [0.5, 1.5). */
    public static void batchNormParams(OnnxBuilder b, String prefix, int channels, long seed) {
        float[] scale = OnnxBuilder.randomNormal(seed, channels, 0.1f);
        for (int i = 0; i < channels; i++) {
            scale[i] += 1f;
        }
        b.initializer(prefix + ".scale", new long[] {channels}, scale);
        b.initializer(prefix + ".bias", new long[] {channels}, OnnxBuilder.randomNormal(seed + 1, channels, 0.1f));
        b.initializer(prefix + ".mean", new long[] {channels}, OnnxBuilder.randomNormal(seed + 2, channels, 0.1f));
        b.initializer(prefix + ".var", new long[] {channels},
                OnnxBuilder.randomUniform(seed + 3, channels, 0.5f, 1.5f));
    }

    /** x[N,16] -> MatMul(32) -> Add -> Relu -> MatMul(4) -> Add -> y[N,4]: the transformer-style linear layout. */
    public static OnnxModel matMulAdd(long seed) {
        return OnnxBuilder.model("matmul_add").opset(17)
                .metadata("edgefleet.sample", "matmul_add")
                .input("x", ElemType.FLOAT, "N", 16)
                .output("y", ElemType.FLOAT, "N", 4)
                .heInitializer("w1", new long[] {16, 32}, 16, seed)
                .randomInitializer("b1", new long[] {32}, 0.05f, seed + 1)
                .heInitializer("w2", new long[] {32, 4}, 32, seed + 2)
                .randomInitializer("b2", new long[] {4}, 0.05f, seed + 3)
                .node("MatMul").name("matmul1").in("x", "w1").out("mm1").add()
                .node("Add").name("add1").in("mm1", "b1").out("a1").add()
                .node("Relu").name("relu1").in("a1").out("r1").add()
                .node("MatMul").name("matmul2").in("r1", "w2").out("mm2").add()
                .node("Add").name("add2").in("mm2", "b2").out("y").add()
                .build();
    }

    /** The then-branch of {@link #ifModel}: 2 * Relu(h), reading {@code h} [N,8] from the outer scope. */
    public static GraphProto ifThenBranch() {
        return OnnxBuilder.subgraph("then_branch")
                .output("then.out", ElemType.FLOAT, "N", 8)
                .initializer("then.two", new long[0], 2f)
                .node("Relu").name("then.relu").in("h").out("then.relu.out").add()
                .node("Mul").name("then.mul").in("then.relu.out", "then.two").out("then.out").add()
                .buildGraph();
    }

    /** The else-branch of {@link #ifModel}: Sigmoid(h), reading {@code h} [N,8] from the outer scope. */
    public static GraphProto ifElseBranch() {
        return OnnxBuilder.subgraph("else_branch")
                .output("else.out", ElemType.FLOAT, "N", 8)
                .node("Sigmoid").name("else.sigmoid").in("h").out("else.out").add()
                .buildGraph();
    }

    /**
     * Control flow: h = MatMul(x, w); if sum(x) > 0 then 2 * Relu(h) else Sigmoid(h); y = that + bias. Both branches
     * read {@code h} from the outer scope, and the then-branch owns an initializer, so passes and dead-code removal
     * must look through the If node.
     */
    public static OnnxModel ifModel(long seed) {
        GraphProto thenBranch = ifThenBranch();
        GraphProto elseBranch = ifElseBranch();
        return OnnxBuilder.model("if_model").opset(17)
                .metadata("edgefleet.sample", "if")
                .input("x", ElemType.FLOAT, "N", 4)
                .output("y", ElemType.FLOAT, "N", 8)
                .heInitializer("w", new long[] {4, 8}, 4, seed)
                .randomInitializer("bias", new long[] {8}, 0.05f, seed + 1)
                .initializer("zero", new long[0], 0f)
                .node("MatMul").name("matmul").in("x", "w").out("h").add()
                .node("ReduceSum").name("sum").in("x").out("s").attr("keepdims", 0).add()
                .node("Greater").name("positive").in("s", "zero").out("cond").add()
                .node("If").name("branch").in("cond").out("branch.out")
                        .attr("then_branch", thenBranch).attr("else_branch", elseBranch).add()
                .node("Add").name("add_bias").in("branch.out", "bias").out("y").add()
                .build();
    }
}
