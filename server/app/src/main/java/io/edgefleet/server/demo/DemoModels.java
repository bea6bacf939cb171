package io.edgefleet.server.demo;

import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;

/**
 * A small classifier built in code for the quickstart: input {@code input} float [N,64],
 * Gemm(64x32) -> Relu -> Gemm(32x10) -> Softmax, output {@code probabilities} float [N,10].
 * Weights come from a fixed seed, so every server seeds byte-identical bytes (same sha256).
 */
public final class DemoModels {
    public static final int INPUTS = 64;
    public static final int HIDDEN = 32;
    public static final int CLASSES = 10;
    private static final long SEED = 20240611L;

    private DemoModels() {
    }

    public static byte[] classifier() {
        return classifier(SEED);
    }

    /** The same architecture with weights from another seed: a different model (and sha256) of the same shape. */
    public static byte[] classifier(long seed) {
        return OnnxBuilder.model("demo-classifier")
                .opset(13)
                .irVersion(8)
                .producer("edgefleet-demo", "1")
                .input("input", ElemType.FLOAT, "N", INPUTS)
                .output("probabilities", ElemType.FLOAT, "N", CLASSES)
                .heInitializer("w1", new long[] {INPUTS, HIDDEN}, INPUTS, seed)
                .randomInitializer("b1", new long[] {HIDDEN}, 0.01f, seed + 1)
                .heInitializer("w2", new long[] {HIDDEN, CLASSES}, HIDDEN, seed + 2)
                .randomInitializer("b2", new long[] {CLASSES}, 0.01f, seed + 3)
                .node("Gemm").name("fc1").in("input", "w1", "b1").out("h1").add()
                .node("Relu").name("relu1").in("h1").out("a1").add()
                .node("Gemm").name("fc2").in("a1", "w2", "b2").out("logits").add()
                .node("Softmax").name("softmax").in("logits").out("probabilities").attr("axis", 1).add()
                .build()
                .toBytes();
    }
}
