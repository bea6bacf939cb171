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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Feeds the samples of an {@link NpzDataset} in order, converted to the element types the model declares. While
 * the faults ask for a {@link ClassMix} (class-mix drift) and the files are labelled, it draws each sample's class
 * from that mix instead and feeds the next sample of that class (cycling within the class).
 */
final class NpzFeed implements InputFeed {
    private final OrtEnvironment env;
    private final NpzDataset data;
    private final Map<String, TensorInfo> inputs;
    private final InferenceFaults faults;
    /** The classes present, ascending, and the samples of each in feeding order; null without labels. */
    private final long[] classes;
    private final int[][] byClass;
    private final int[] cursor;
    private final SplittableRandom random;
    private ClassMix lastMix;
    private double[] lastProbabilities;
    private long index;

    private NpzFeed(OrtEnvironment env, NpzDataset data, Map<String, TensorInfo> inputs, InferenceFaults faults) {
        this.env = env;
        this.data = data;
        this.inputs = inputs;
        this.faults = faults == null ? InferenceFaults.NONE : faults;
        long[] labels = data.labels();
        if (labels == null) {
            classes = null;
            byClass = null;
            cursor = null;
        } else {
            TreeMap<Long, List<Integer>> grouped = new TreeMap<>();
            for (int i = 0; i < labels.length; i++) {
                grouped.computeIfAbsent(labels[i], k -> new ArrayList<>()).add(i);
            }
            classes = grouped.keySet().stream().mapToLong(Long::longValue).toArray();
            byClass = grouped.values().stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
            cursor = new int[classes.length];
        }
        random = new SplittableRandom(data.sampleCount() * 31L + 7);
    }

    /** Index of the next sample to feed: in order, or drawn by the class mix the faults ask for. */
    private long nextIndex() {
        ClassMix mix = classes == null ? null : faults.classMix();
        if (mix == null) {
            return index++;
        }
        if (mix != lastMix) {
            lastMix = mix;
            lastProbabilities = mix.probabilities(classes);
        }
        int c = ClassMix.draw(lastProbabilities, random);
        int[] samples = byClass[c];
        return samples[cursor[c]++ % samples.length];
    }

    /**
     * A feed for this model, or a reason why the dataset does not fit it (missing input, shape or
     * element type mismatch).
     */
    static Result forModel(OrtEnvironment env, NpzDataset data, Map<String, NodeInfo> modelInputs) {
        return forModel(env, data, modelInputs, InferenceFaults.NONE);
    }

    /** As {@link #forModel(OrtEnvironment, NpzDataset, Map)}, sampling by the class mix {@code faults} asks for. */
    static Result forModel(OrtEnvironment env, NpzDataset data, Map<String, NodeInfo> modelInputs, InferenceFaults faults) {
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
        return new Result(new NpzFeed(env, data, infos, faults), null);
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
        Map<String, NpyArray> sample = data.sample(nextIndex());
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
