package io.edgefleet.it;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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

    /** Input width, hidden width, live units per hidden layer and classes of {@link #redundantMlp}. */
    public static final int RMLP_IN = 64;
    public static final int RMLP_HIDDEN = 1024;
    public static final int RMLP_LIVE = 192;
    public static final int RMLP_OUT = 10;

    /** Positions per sample of the sequence form of {@link #redundantMlp} (was 16 until session 13; see there). */
    public static final int RSEQ_POSITIONS = 96;

    /**
     * An MLP 64-1024-1024-10 in which only the first 192 units of each hidden layer carry signal: the other units'
     * incoming and outgoing weights are 1 % of the live ones'. Its structured pruning can drop most of its
     * multiply-adds at little loss, as in an over-parameterised trained network, so a planner has a float variant
     * that is faster at the same accuracy (a random dense MLP has none).
     *
     * <p>With {@code positions} 0 a sample is one row: x[N,64] -> MatMul(1024) + b -> Relu -> MatMul(1024) + b -> Relu
     * -> Gemm(10) -> y[N,10]. With {@code positions} P > 0 (ThreeClassPlanIT uses {@link #RSEQ_POSITIONS}) a sample is
     * P rows, x[N,P,64]: the same hidden layers run on each row and are averaged over the rows (ReduceMean) before the
     * last Gemm. Same weights either way; P times the multiply-adds, so with 96 positions a batch-1 run takes about a
     * millisecond on one core here, well above an agent's per-call overhead and a loaded machine's timer noise (one
     * row's tens of microseconds were below them), and the float model is compute-bound enough that its 30 % structured
     * variant runs at about a fifth to a quarter of its time on a device paced at 20 ms (with 16 positions, 0.35-0.55:
     * the weights' memory traffic and per-run overheads, which pruning shrinks less, were most of it). The median is
     * of batch-1 runs on one thread.
     */
    public static Model redundantMlp(long seed, int positions) {
        if (positions < 0) {
            throw new IllegalArgumentException("positions must be 0 (one row per sample) or more, got " + positions);
        }
        boolean sequence = positions > 0;
        // MatMul weights are [in, out]: the live block is every input row and the first 192 output columns
        float[] w1 = scaledRows(OnnxBuilder.randomNormal(seed, RMLP_IN * RMLP_HIDDEN, 1f / (float) Math.sqrt(RMLP_IN)),
                RMLP_IN, RMLP_HIDDEN, RMLP_IN, RMLP_LIVE);
        float[] w2 = scaledRows(OnnxBuilder.randomNormal(seed + 1, RMLP_HIDDEN * RMLP_HIDDEN,
                1f / (float) Math.sqrt(RMLP_LIVE)), RMLP_HIDDEN, RMLP_HIDDEN, RMLP_LIVE, RMLP_LIVE);
        float[] w3 = scaledRows(OnnxBuilder.randomNormal(seed + 2, RMLP_OUT * RMLP_HIDDEN,
                1f / (float) Math.sqrt(RMLP_LIVE)), RMLP_OUT, RMLP_HIDDEN, RMLP_OUT, RMLP_LIVE);
        Object[] inputDims = sequence ? new Object[] {"N", positions, RMLP_IN} : new Object[] {"N", RMLP_IN};
        OnnxBuilder b = OnnxBuilder.model(sequence ? "it-redundant-seq-mlp" : "it-redundant-mlp").opset(17)
                .metadata("edgefleet.it.seed", Long.toString(seed))
                .input("x", ElemType.FLOAT, inputDims)
                .output("y", ElemType.FLOAT, "N", RMLP_OUT)
                .initializer("w1", new long[] {RMLP_IN, RMLP_HIDDEN}, w1)
                .initializer("b1", new long[] {RMLP_HIDDEN}, OnnxBuilder.randomNormal(seed + 3, RMLP_HIDDEN, 0.01f))
                .initializer("w2", new long[] {RMLP_HIDDEN, RMLP_HIDDEN}, w2)
                .initializer("b2", new long[] {RMLP_HIDDEN}, OnnxBuilder.randomNormal(seed + 4, RMLP_HIDDEN, 0.01f))
                .initializer("w3", new long[] {RMLP_OUT, RMLP_HIDDEN}, w3)
                .initializer("b3", new long[] {RMLP_OUT}, OnnxBuilder.randomNormal(seed + 5, RMLP_OUT, 0.01f))
                .node("MatMul").name("fc1").in("x", "w1").out("m1").add()
                .node("Add").name("bias1").in("m1", "b1").out("h1").add()
                .node("Relu").name("relu1").in("h1").out("a1").add()
                .node("MatMul").name("fc2").in("a1", "w2").out("m2").add()
                .node("Add").name("bias2").in("m2", "b2").out("h2").add()
                .node("Relu").name("relu2").in("h2").out("a2").add();
        if (sequence) {
            b.node("ReduceMean").name("pool").in("a2").out("p").ints("axes", 1).attr("keepdims", 0L).add();
        }
        byte[] bytes = b.node("Gemm").name("fc3").in(sequence ? "p" : "a2", "w3", "b3").out("y").attr("transB", 1).add()
                .build()
                .toBytes();
        long[] shape = sequence ? new long[] {1, positions, RMLP_IN} : new long[] {1, RMLP_IN};
        float[] x = OnnxBuilder.randomNormal(seed + 99, Math.max(1, positions) * RMLP_IN, 1f);
        RoundTrip rt = roundTrip(bytes, "x", shape, x, 41);
        String name = sequence ? "sequence MLP " + positions + "x64-1024-1024-mean-10" : "MLP 64-1024-1024-10";
        for (float v : rt.output()[0]) {
            if (!Float.isFinite(v)) {
                throw new AssertionError(name + " (seed " + seed + ") produced " + v);
            }
        }
        return new Model(name + " (192 live units per layer) seed " + seed, bytes, rt.medianMs());
    }

    /** Row-major [rows, cols] weights: entries outside the live block [liveRows, liveCols] are scaled by 1 %. */
    private static float[] scaledRows(float[] w, int rows, int cols, int liveRows, int liveCols) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                if (r >= liveRows || c >= liveCols) {
                    w[r * cols + c] *= 0.01f;
                }
            }
        }
        return w;
    }

    /** The model's outputs for a batch of inputs (ONNX Runtime, one thread): rows of logits. */
    public static float[][] run(byte[] model, String input, long[] shape, float[] data) {
        return roundTrip(model, input, shape, data, 1).output();
    }

    /** Median of {@code runs} timed runs of one input (ONNX Runtime, one intra-op thread), ms. */
    public static double medianLatencyMs(byte[] model, String input, long[] shape, float[] data, int runs) {
        return roundTrip(model, input, shape, data, runs).medianMs();
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

    /** The arrays as an {@code .npz} (a dataset upload, an agent's input file). */
    public static byte[] npz(Map<String, NpyArray> arrays) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            Npz.write(out, arrays);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
