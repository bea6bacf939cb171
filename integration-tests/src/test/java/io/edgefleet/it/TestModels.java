package io.edgefleet.it;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * The models the scenarios deploy, built in code with the engine's {@link OnnxBuilder}. Each is run
 * once in ONNX Runtime before a test uses it (round trip): the small MLP is compared with a plain
 * Java forward pass, the heavy model is timed so the latency scenario knows it really breaks its SLO.
 */
public final class TestModels {
    private TestModels() {
    }

    /** A built model with what the scenario needs to know about it. */
    public record Model(String description, byte[] bytes, double medianLatencyMs) {
    }

    static final int MLP_IN = 16;
    static final int MLP_HIDDEN = 32;
    static final int MLP_OUT = 4;

    /** x[N,16] -> Gemm(32) -> Relu -> Gemm(4) -> y[N,4], weights from {@code seed}. */
    public static Model mlp(long seed) {
        float[] w1 = OnnxBuilder.randomNormal(seed, MLP_HIDDEN * MLP_IN, 0.25f);
        float[] b1 = OnnxBuilder.randomNormal(seed + 1, MLP_HIDDEN, 0.05f);
        float[] w2 = OnnxBuilder.randomNormal(seed + 2, MLP_OUT * MLP_HIDDEN, 0.25f);
        float[] b2 = OnnxBuilder.randomNormal(seed + 3, MLP_OUT, 0.05f);
        byte[] bytes = OnnxBuilder.model("it-mlp").opset(17)
                .metadata("edgefleet.it.seed", Long.toString(seed))
                .input("x", ElemType.FLOAT, "N", MLP_IN)
                .output("y", ElemType.FLOAT, "N", MLP_OUT)
                .initializer("w1", new long[] {MLP_HIDDEN, MLP_IN}, w1)
                .initializer("b1", new long[] {MLP_HIDDEN}, b1)
                .initializer("w2", new long[] {MLP_OUT, MLP_HIDDEN}, w2)
                .initializer("b2", new long[] {MLP_OUT}, b2)
                .node("Gemm").name("fc1").in("x", "w1", "b1").out("h").attr("transB", 1).add()
                .node("Relu").name("relu").in("h").out("h_relu").add()
                .node("Gemm").name("fc2").in("h_relu", "w2", "b2").out("y").attr("transB", 1).add()
                .build()
                .toBytes();

        float[] x = OnnxBuilder.randomNormal(seed + 99, 2 * MLP_IN, 1f);
        float[][] expected = new float[2][];
        for (int n = 0; n < 2; n++) {
            float[] h = new float[MLP_HIDDEN];
            for (int j = 0; j < MLP_HIDDEN; j++) {
                float s = b1[j];
                for (int i = 0; i < MLP_IN; i++) {
                    s += x[n * MLP_IN + i] * w1[j * MLP_IN + i];
                }
                h[j] = Math.max(0f, s);
            }
            expected[n] = new float[MLP_OUT];
            for (int k = 0; k < MLP_OUT; k++) {
                float s = b2[k];
                for (int j = 0; j < MLP_HIDDEN; j++) {
                    s += h[j] * w2[k * MLP_HIDDEN + j];
                }
                expected[n][k] = s;
            }
        }
        RoundTrip rt = roundTrip(bytes, "x", new long[] {2, MLP_IN}, x, 5);
        for (int n = 0; n < 2; n++) {
            for (int k = 0; k < MLP_OUT; k++) {
                if (Math.abs(rt.output()[n][k] - expected[n][k]) > 1e-4f) {
                    throw new AssertionError("ONNX Runtime disagrees with the reference forward pass of the MLP (seed "
                            + seed + ") at [" + n + "," + k + "]: " + rt.output()[n][k] + " vs " + expected[n][k]);
                }
            }
        }
        return new Model("MLP 16-32-4 seed " + seed, bytes, rt.medianMs());
    }

    /**
     * A model that is slow on purpose: a static [S,S] activation multiplied {@code layers} times by one
     * shared [S,S] weight (Tanh in between keeps values finite). One weight tensor keeps the artifact
     * small while every layer still costs S^3 multiply-adds.
     */
    public static Model heavy(long seed, int size, int layers) {
        OnnxBuilder b = OnnxBuilder.model("it-heavy").opset(17)
                .metadata("edgefleet.it.seed", Long.toString(seed))
                .input("x", ElemType.FLOAT, size, size)
                .output("y", ElemType.FLOAT, size, size)
                .initializer("w", new long[] {size, size}, OnnxBuilder.randomNormal(seed, size * size, 1f / (float) Math.sqrt(size)));
        String in = "x";
        for (int l = 0; l < layers; l++) {
            String mm = "mm" + l;
            String out = l == layers - 1 ? "y" : "t" + l;
            b.node("MatMul").name(mm).in(in, "w").out(mm + ".out").add();
            b.node("Tanh").name("tanh" + l).in(mm + ".out").out(out).add();
            in = out;
        }
        byte[] bytes = b.build().toBytes();
        float[] x = OnnxBuilder.randomNormal(seed + 7, size * size, 1f);
        RoundTrip rt = roundTrip(bytes, "x", new long[] {size, size}, x, 7);
        for (float[] row : rt.output()) {
            for (float v : row) {
                if (!Float.isFinite(v) || Math.abs(v) > 1f) {
                    throw new AssertionError("heavy model produced " + v + "; Tanh output must be finite and in [-1,1]");
                }
            }
        }
        return new Model("heavy " + layers + "x MatMul[" + size + "x" + size + "]", bytes, rt.medianMs());
    }

    /** Output of one run and the median of {@code timedRuns} batch runs on one intra-op thread. */
    record RoundTrip(float[][] output, double medianMs) {
    }

    /** Parses the bytes back as ONNX, loads them in ONNX Runtime, runs them and times them. */
    static RoundTrip roundTrip(byte[] model, String input, long[] shape, float[] data, int timedRuns) {
        try {
            OnnxMl.ModelProto parsed = OnnxMl.ModelProto.parseFrom(model);
            if (parsed.getGraph().getNodeCount() == 0) {
                throw new AssertionError("built model has no nodes");
            }
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError("built model does not parse back as ONNX", e);
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(model, opts)) {
                float[][] out = null;
                double[] times = new double[timedRuns];
                for (int r = 0; r < timedRuns; r++) {
                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape)) {
                        long t0 = System.nanoTime();
                        try (OrtSession.Result result = session.run(Map.of(input, t))) {
                            times[r] = (System.nanoTime() - t0) / 1e6;
                            out = (float[][]) result.get(0).getValue();
                        }
                    }
                }
                Arrays.sort(times);
                return new RoundTrip(out, times[timedRuns / 2]);
            }
        } catch (OrtException e) {
            throw new AssertionError("ONNX Runtime refused a model the tests built: " + e.getMessage(), e);
        }
    }
}
