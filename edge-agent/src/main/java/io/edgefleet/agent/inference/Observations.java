package io.edgefleet.agent.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.edgefleet.protocol.drift.TensorSample;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Copies ONNX Runtime tensors into the plain arrays the shared drift code reads. */
public final class Observations {
    private Observations() {
    }

    /** Inputs and tensor outputs of one run; tensors of other types (strings, maps) are left out. */
    public static Observation of(Map<String, OnnxTensor> inputs, OrtSession.Result result) throws OrtException {
        List<TensorSample> in = new ArrayList<>(inputs.size());
        for (Map.Entry<String, OnnxTensor> e : inputs.entrySet()) {
            TensorSample t = sample(e.getKey(), e.getValue());
            if (t != null) {
                in.add(t);
            }
        }
        List<TensorSample> out = new ArrayList<>();
        for (Map.Entry<String, OnnxValue> e : result) {
            if (e.getValue() instanceof OnnxTensor t) {
                TensorSample s = sample(e.getKey(), t);
                if (s != null) {
                    out.add(s);
                }
            }
        }
        return new Observation(in, out);
    }

    /** One tensor as floats (float, double) or longs (integer types), or null for other types. */
    public static TensorSample sample(String name, OnnxTensor t) {
        TensorInfo info = t.getInfo();
        long[] shape = info.getShape();
        switch (info.type) {
            case FLOAT -> {
                FloatBuffer b = t.getFloatBuffer();
                float[] f = new float[b.remaining()];
                b.get(f);
                return TensorSample.ofFloats(name, shape, f);
            }
            case DOUBLE -> {
                DoubleBuffer b = t.getDoubleBuffer();
                float[] f = new float[b.remaining()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) b.get(i);
                }
                return TensorSample.ofFloats(name, shape, f);
            }
            case INT64 -> {
                LongBuffer b = t.getLongBuffer();
                long[] l = new long[b.remaining()];
                b.get(l);
                return TensorSample.ofLongs(name, shape, l);
            }
            case INT32 -> {
                IntBuffer b = t.getIntBuffer();
                long[] l = new long[b.remaining()];
                for (int i = 0; i < l.length; i++) {
                    l[i] = b.get(i);
                }
                return TensorSample.ofLongs(name, shape, l);
            }
            default -> {
                return null;
            }
        }
    }

    /**
     * What an application call saw: its input tensors and the outputs it ran, from the agent's own
     * {@link Tensor}s (the inference API's path), so API inferences feed drift like the built-in loop's.
     */
    public static Observation of(Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
        return new Observation(samples(inputs), samples(outputs));
    }

    private static List<TensorSample> samples(Map<String, Tensor> tensors) {
        List<TensorSample> out = new ArrayList<>(tensors.size());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            TensorSample s = sample(e.getKey(), e.getValue());
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    /** One tensor as floats (float, double) or longs (integer types), or null for booleans. */
    static TensorSample sample(String name, Tensor t) {
        Object v = t.values();
        return switch (t.type()) {
            case FLOAT -> TensorSample.ofFloats(name, t.shape(), (float[]) v);
            case DOUBLE -> {
                double[] d = (double[]) v;
                float[] f = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    f[i] = (float) d[i];
                }
                yield TensorSample.ofFloats(name, t.shape(), f);
            }
            case INT64 -> TensorSample.ofLongs(name, t.shape(), (long[]) v);
            case INT32 -> {
                int[] a = (int[]) v;
                long[] l = new long[a.length];
                for (int i = 0; i < a.length; i++) {
                    l[i] = a[i];
                }
                yield TensorSample.ofLongs(name, t.shape(), l);
            }
            case INT16 -> {
                short[] a = (short[]) v;
                long[] l = new long[a.length];
                for (int i = 0; i < a.length; i++) {
                    l[i] = a[i];
                }
                yield TensorSample.ofLongs(name, t.shape(), l);
            }
            case INT8, UINT8 -> {
                byte[] a = (byte[]) v;
                long[] l = new long[a.length];
                for (int i = 0; i < a.length; i++) {
                    l[i] = t.type() == ElementType.UINT8 ? Byte.toUnsignedLong(a[i]) : a[i];
                }
                yield TensorSample.ofLongs(name, t.shape(), l);
            }
            case BOOL, OTHER -> null;
        };
    }
}
