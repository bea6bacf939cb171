package io.edgefleet.agent.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Builds tiny ONNX models in test code with a minimal protobuf writer, so the agent's ONNX Runtime
 * adapter is tested without the server's protobuf dependency. Field numbers are those of onnx.proto.
 */
public final class TinyOnnx {
    public static final int FLOAT = 1;
    public static final int UINT8 = 2;
    public static final int INT8 = 3;
    public static final int INT16 = 5;
    public static final int INT32 = 6;
    public static final int INT64 = 7;
    public static final int BOOL = 9;
    public static final int FLOAT16 = 10;
    public static final int DOUBLE = 11;

    private TinyOnnx() {
    }

    /** A protobuf message under construction. */
    static final class Pb {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pb varint(int field, long v) {
            tag(field, 0);
            raw(v);
            return this;
        }

        Pb bytes(int field, byte[] b) {
            tag(field, 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        Pb str(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Pb msg(int field, Pb m) {
            return bytes(field, m.out.toByteArray());
        }

        private void tag(int field, int wire) {
            raw(((long) field << 3) | wire);
        }

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        byte[] toBytes() {
            return out.toByteArray();
        }
    }

    /** ValueInfoProto of a tensor; a dimension of -1 becomes the symbolic dimension "N". */
    static Pb valueInfo(String name, int elemType, long... dims) {
        Pb shape = new Pb();
        for (long d : dims) {
            shape.msg(1, d < 0 ? new Pb().str(2, "N") : new Pb().varint(1, d));
        }
        Pb tensorType = new Pb().varint(1, elemType).msg(2, shape);
        return new Pb().str(1, name).msg(2, new Pb().msg(1, tensorType));
    }

    static Pb floatTensor(String name, float[] values, long... dims) {
        Pb t = new Pb();
        for (long d : dims) {
            t.varint(1, d);
        }
        t.varint(2, FLOAT).str(8, name);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return t.bytes(9, b.array());
    }

    static Pb int64Tensor(String name, long[] values, long... dims) {
        Pb t = new Pb();
        for (long d : dims) {
            t.varint(1, d);
        }
        t.varint(2, INT64).str(8, name);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return t.bytes(9, b.array());
    }

    static Pb node(String op, String[] inputs, String[] outputs, Pb... attributes) {
        Pb n = new Pb();
        for (String i : inputs) {
            n.str(1, i);
        }
        for (String o : outputs) {
            n.str(2, o);
        }
        n.str(3, op.toLowerCase() + "_0").str(4, op);
        for (Pb a : attributes) {
            n.msg(5, a);
        }
        return n;
    }

    static Pb intAttribute(String name, long value) {
        return new Pb().str(1, name).varint(20, 2).varint(3, value);
    }

    static byte[] model(Pb graph) {
        return new Pb().varint(1, 8).str(2, "edgefleet-agent-test").msg(7, graph)
                .msg(8, new Pb().str(1, "").varint(2, 13)).toBytes();
    }

    /** Y[N,3] = X[N,4] · W + B with fixed weights. */
    public static byte[] linear() {
        return linear(0f);
    }

    /** {@link #linear()} with {@code shift} added to every weight: a second version that answers differently. */
    public static byte[] linear(float shift) {
        float[] w = new float[12];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 5) * 0.1f - 0.2f + shift;
        }
        Pb g = new Pb()
                .msg(1, node("MatMul", new String[] {"X", "W"}, new String[] {"H"}))
                .msg(1, node("Add", new String[] {"H", "B"}, new String[] {"Y"}))
                .str(2, "linear")
                .msg(5, floatTensor("W", w, 4, 3))
                .msg(5, floatTensor("B", new float[] {0.1f, 0.2f, 0.3f}, 3))
                .msg(11, valueInfo("X", FLOAT, -1, 4))
                .msg(12, valueInfo("Y", FLOAT, -1, 3));
        return model(g);
    }

    /** Y[N,K] = Identity(X[N,K]): class scores that are the input itself, so a sample's class is its largest value. */
    public static byte[] scores(int k) {
        Pb g = new Pb()
                .msg(1, node("Identity", new String[] {"X"}, new String[] {"Y"}))
                .str(2, "scores")
                .msg(11, valueInfo("X", FLOAT, -1, k))
                .msg(12, valueInfo("Y", FLOAT, -1, k));
        return model(g);
    }

    /** Y[N,1] = X[N,4] · W + B: a regression output (one value per sample), not a classifier's. */
    public static byte[] regression(float shift) {
        float[] w = {0.1f + shift, -0.2f + shift, 0.3f + shift, 0.05f + shift};
        Pb g = new Pb()
                .msg(1, node("MatMul", new String[] {"X", "W"}, new String[] {"H"}))
                .msg(1, node("Add", new String[] {"H", "B"}, new String[] {"Y"}))
                .str(2, "regression")
                .msg(5, floatTensor("W", w, 4, 1))
                .msg(5, floatTensor("B", new float[] {0.5f}, 1))
                .msg(11, valueInfo("X", FLOAT, -1, 4))
                .msg(12, valueInfo("Y", FLOAT, -1, 1));
        return model(g);
    }

    /** Y = Log(X): NaN for the negative half of Gaussian inputs, so its smoke test must fail. */
    public static byte[] log() {
        Pb g = new Pb()
                .msg(1, node("Log", new String[] {"X"}, new String[] {"Y"}))
                .str(2, "log")
                .msg(11, valueInfo("X", FLOAT, 1, 16))
                .msg(12, valueInfo("Y", FLOAT, 1, 16));
        return model(g);
    }

    /** Y = Cast&lt;float&gt;(X) for an int64 input. */
    public static byte[] castInt64() {
        Pb g = new Pb()
                .msg(1, node("Cast", new String[] {"X"}, new String[] {"Y"}, intAttribute("to", FLOAT)))
                .str(2, "cast")
                .msg(11, valueInfo("X", INT64, -1, 3))
                .msg(12, valueInfo("Y", FLOAT, -1, 3));
        return model(g);
    }

    /**
     * Passes through one input of every exchangeable type: D FP64 [-1, 2], I32 INT32 [-1, 2], I16 INT16 [2],
     * I8 INT8 [2], U8 UINT8 [2], B BOOL [2], L INT64 [2] become outputs D_out, I32_out, ... of the same type.
     */
    public static byte[] identities() {
        String[] names = {"D", "I32", "I16", "I8", "U8", "B", "L"};
        int[] types = {DOUBLE, INT32, INT16, INT8, UINT8, BOOL, INT64};
        Pb g = new Pb();
        for (String n : names) {
            g.msg(1, node("Identity", new String[] {n}, new String[] {n + "_out"}).str(3, "identity_" + n));
        }
        g.str(2, "identities");
        for (int i = 0; i < names.length; i++) {
            long[] dims = i < 2 ? new long[] {-1, 2} : new long[] {2};
            g.msg(11, valueInfo(names[i], types[i], dims));
        }
        for (int i = 0; i < names.length; i++) {
            long[] dims = i < 2 ? new long[] {-1, 2} : new long[] {2};
            g.msg(12, valueInfo(names[i] + "_out", types[i], dims));
        }
        return model(g);
    }

    /** Y = Cast&lt;float16&gt;(X) for X FP32 [2]: an output type the inference API describes but cannot return. */
    public static byte[] castHalf() {
        Pb g = new Pb()
                .msg(1, node("Cast", new String[] {"X"}, new String[] {"Y"}, intAttribute("to", FLOAT16)))
                .str(2, "cast-half")
                .msg(11, valueInfo("X", FLOAT, 2))
                .msg(12, valueInfo("Y", FLOAT16, 2));
        return model(g);
    }

    /** Reshapes X[N,4] to [5]: loads fine, fails at run time. */
    public static byte[] failsAtRunTime() {
        Pb g = new Pb()
                .msg(1, node("Reshape", new String[] {"X", "S"}, new String[] {"Y"}))
                .str(2, "bad-reshape")
                .msg(5, int64Tensor("S", new long[] {5}, 1))
                .msg(11, valueInfo("X", FLOAT, -1, 4))
                .msg(12, valueInfo("Y", FLOAT, 5));
        return model(g);
    }
}
