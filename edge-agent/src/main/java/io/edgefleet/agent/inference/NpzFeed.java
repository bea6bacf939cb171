package io.edgefleet.agent.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import io.edgefleet.protocol.data.DType;
import io.edgefleet.protocol.data.NpyArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Feeds the samples of an {@link NpzDataset} in order, converted to the element types the model declares. */
final class NpzFeed implements InputFeed {
    private final OrtEnvironment env;
    private final NpzDataset data;
    private final Map<String, TensorInfo> inputs;
    private long index;

    private NpzFeed(OrtEnvironment env, NpzDataset data, Map<String, TensorInfo> inputs) {
        this.env = env;
        this.data = data;
        this.inputs = inputs;
    }

    /**
     * A feed for this model, or a reason why the dataset does not fit it (missing input, shape or
     * element type mismatch).
     */
    static Result forModel(OrtEnvironment env, NpzDataset data, Map<String, NodeInfo> modelInputs) {
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        var missing = data.missing(modelInputs.keySet());
        if (!missing.isEmpty()) {
            return new Result(null, "the .npz files have no arrays named " + missing);
        }
        Map<String, NpyArray> first = data.sample(0);
        for (Map.Entry<String, NodeInfo> e : modelInputs.entrySet()) {
            if (!(e.getValue().getInfo() instanceof TensorInfo t)) {
                return new Result(null, "input '" + e.getKey() + "' is not a tensor");
            }
            if (!supported(t.type)) {
                return new Result(null, "input '" + e.getKey() + "' has element type " + t.type + ", not fed from .npz");
            }
            NpyArray a = first.get(e.getKey());
            if (a.dtype().isFloating() != (t.type == OnnxJavaType.FLOAT || t.type == OnnxJavaType.DOUBLE)) {
                return new Result(null, "input '" + e.getKey() + "' is " + t.type + " but the .npz array is " + a.dtype());
            }
            long[] declared = t.getShape();
            long[] actual = a.shape();
            boolean fits = declared.length == actual.length;
            for (int i = 1; fits && i < declared.length; i++) {
                fits = declared[i] < 0 || declared[i] == actual[i];
            }
            if (!fits) {
                return new Result(null, "input '" + e.getKey() + "' has shape " + Arrays.toString(declared)
                        + " but a .npz sample has shape " + Arrays.toString(actual));
            }
            infos.put(e.getKey(), t);
        }
        return new Result(new NpzFeed(env, data, infos), null);
    }

    record Result(NpzFeed feed, String mismatch) {
        Optional<NpzFeed> get() {
            return Optional.ofNullable(feed);
        }
    }

    private static boolean supported(OnnxJavaType t) {
        return switch (t) {
            case FLOAT, DOUBLE, INT64, INT32, INT8, UINT8, BOOL -> true;
            default -> false;
        };
    }

    @Override
    public Inputs next() throws OrtException {
        Map<String, NpyArray> sample = data.sample(index++);
        Map<String, OnnxTensor> out = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, TensorInfo> e : inputs.entrySet()) {
                out.put(e.getKey(), tensor(sample.get(e.getKey()), e.getValue().type));
            }
        } catch (OrtException | RuntimeException ex) {
            out.values().forEach(OnnxTensor::close);
            throw ex;
        }
        return new Inputs(out, true);
    }

    private OnnxTensor tensor(NpyArray a, OnnxJavaType type) throws OrtException {
        long[] shape = a.shape();
        int n = Math.toIntExact(a.elementCount());
        switch (type) {
            case FLOAT -> {
                ByteBuffer b = direct(n * 4);
                if (a.dtype() == DType.FLOAT32) {
                    b.asFloatBuffer().put(a.bytes().asFloatBuffer());
                } else {
                    b.asFloatBuffer().put(a.toFloats());
                }
                return OnnxTensor.createTensor(env, b.asFloatBuffer(), shape);
            }
            case DOUBLE -> {
                ByteBuffer b = direct(n * 8);
                if (a.dtype() == DType.FLOAT64) {
                    b.asDoubleBuffer().put(a.bytes().asDoubleBuffer());
                } else {
                    float[] f = a.toFloats();
                    for (int i = 0; i < n; i++) {
                        b.putDouble(i * 8, f[i]);
                    }
                }
                return OnnxTensor.createTensor(env, b.asDoubleBuffer(), shape);
            }
            case INT64 -> {
                ByteBuffer b = direct(n * 8);
                b.asLongBuffer().put(a.toLongs());
                return OnnxTensor.createTensor(env, b.asLongBuffer(), shape);
            }
            case INT32 -> {
                ByteBuffer b = direct(n * 4);
                long[] v = a.toLongs();
                for (int i = 0; i < n; i++) {
                    b.putInt(i * 4, (int) v[i]);
                }
                return OnnxTensor.createTensor(env, b.asIntBuffer(), shape);
            }
            default -> {
                ByteBuffer b = direct(n);
                long[] v = a.toLongs();
                for (int i = 0; i < n; i++) {
                    b.put(i, (byte) v[i]);
                }
                return OnnxTensor.createTensor(env, b, shape, type);
            }
        }
    }

    private static ByteBuffer direct(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }

    @Override
    public void close() {
        // Tensors are per inference and closed by the caller.
    }
}
