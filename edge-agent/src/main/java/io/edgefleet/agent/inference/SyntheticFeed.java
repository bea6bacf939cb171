package io.edgefleet.agent.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import io.edgefleet.protocol.ReasonCode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Inputs generated from the model's own input descriptions: dynamic dimensions become 1, floating
 * inputs are standard Gaussian, integer inputs small non-negative ints (safe as indices), booleans
 * random. By default a few variants are made once and cycled, so the loop measures the model, not the generator.
 * As a {@linkplain #stream stream} every inference gets a fresh draw from one seeded generator instead: the stream a
 * drift monitor needs, because a handful of cycled points has no distribution to compare (a self reference over
 * them is a few spikes, and a restart that draws other points scores as total drift).
 */
final class SyntheticFeed implements InputFeed {
    /** Refuse inputs whose synthetic version would need more than this many elements. */
    static final long MAX_ELEMENTS = 16L * 1024 * 1024;
    static final int INT_RANGE = 4;

    private final List<Map<String, OnnxTensor>> variants = new ArrayList<>();
    private int next;
    /** Set for a stream: the environment, the inputs and the generator every inference draws from. */
    private final OrtEnvironment env;
    private final Map<String, NodeInfo> inputs;
    private final Random stream;

    /** A fresh draw for every inference from a generator seeded with {@code seed}. */
    static SyntheticFeed stream(OrtEnvironment env, Map<String, NodeInfo> inputs, long seed) throws ModelException {
        return new SyntheticFeed(env, inputs, seed);
    }

    private SyntheticFeed(OrtEnvironment env, Map<String, NodeInfo> inputs, long seed) throws ModelException {
        this.env = env;
        this.inputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
        this.stream = new Random(seed);
        // one draw up front, so an input the generator cannot make is refused at load, not on the first inference
        try {
            draw().values().forEach(OnnxTensor::close);
        } catch (OrtException e) {
            throw new ModelException(ReasonCode.LOAD_FAILED, "cannot create synthetic inputs: " + e.getMessage(), e);
        }
    }

    SyntheticFeed(OrtEnvironment env, Map<String, NodeInfo> inputs, int variantCount, long seed) throws ModelException {
        this.env = null;
        this.inputs = null;
        this.stream = null;
        Random rnd = new Random(seed);
        try {
            for (int v = 0; v < variantCount; v++) {
                Map<String, OnnxTensor> set = new LinkedHashMap<>();
                variants.add(set);
                for (Map.Entry<String, NodeInfo> e : inputs.entrySet()) {
                    set.put(e.getKey(), create(env, e.getKey(), e.getValue().getInfo(), rnd));
                }
            }
        } catch (OrtException e) {
            close();
            throw new ModelException(ReasonCode.LOAD_FAILED, "cannot create synthetic inputs: " + e.getMessage(), e);
        } catch (ModelException e) {
            close();
            throw e;
        }
    }

    /** The shape the generator uses for a declared shape: dynamic (negative) dimensions become 1. */
    static long[] concreteShape(long[] declared) {
        long[] s = declared.clone();
        for (int i = 0; i < s.length; i++) {
            if (s[i] < 0) {
                s[i] = 1;
            }
        }
        return s;
    }

    private static OnnxTensor create(OrtEnvironment env, String name, ValueInfo info, Random rnd)
            throws OrtException, ModelException {
        if (!(info instanceof TensorInfo t)) {
            throw new ModelException(ReasonCode.LOAD_FAILED, "input '" + name + "' is not a tensor (" + info
                    + "); only tensor inputs are supported");
        }
        long[] shape = concreteShape(t.getShape());
        long n = 1;
        for (long d : shape) {
            n *= d;
            if (n > MAX_ELEMENTS) {
                throw new ModelException(ReasonCode.LOAD_FAILED, "input '" + name + "' of shape "
                        + Arrays.toString(t.getShape()) + " needs more than " + MAX_ELEMENTS + " elements");
            }
        }
        int count = (int) n;
        OnnxJavaType type = t.type;
        return switch (type) {
            case FLOAT -> {
                FloatBuffer b = direct(count * 4).asFloatBuffer();
                for (int i = 0; i < count; i++) {
                    b.put(i, (float) rnd.nextGaussian());
                }
                yield OnnxTensor.createTensor(env, b, shape);
            }
            case DOUBLE -> {
                DoubleBuffer b = direct(count * 8).asDoubleBuffer();
                for (int i = 0; i < count; i++) {
                    b.put(i, rnd.nextGaussian());
                }
                yield OnnxTensor.createTensor(env, b, shape);
            }
            case INT64 -> {
                LongBuffer b = direct(count * 8).asLongBuffer();
                for (int i = 0; i < count; i++) {
                    b.put(i, rnd.nextInt(INT_RANGE));
                }
                yield OnnxTensor.createTensor(env, b, shape);
            }
            case INT32 -> {
                IntBuffer b = direct(count * 4).asIntBuffer();
                for (int i = 0; i < count; i++) {
                    b.put(i, rnd.nextInt(INT_RANGE));
                }
                yield OnnxTensor.createTensor(env, b, shape);
            }
            case INT16 -> {
                ShortBuffer b = direct(count * 2).asShortBuffer();
                for (int i = 0; i < count; i++) {
                    b.put(i, (short) rnd.nextInt(INT_RANGE));
                }
                yield OnnxTensor.createTensor(env, b, shape);
            }
            case INT8, UINT8, BOOL -> {
                ByteBuffer b = direct(count);
                int range = type == OnnxJavaType.BOOL ? 2 : INT_RANGE;
                for (int i = 0; i < count; i++) {
                    b.put(i, (byte) rnd.nextInt(range));
                }
                yield OnnxTensor.createTensor(env, b, shape, type);
            }
            default -> throw new ModelException(ReasonCode.LOAD_FAILED, "input '" + name + "' has element type "
                    + type + ", which the synthetic input generator does not support");
        };
    }

    private static ByteBuffer direct(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }

    private Map<String, OnnxTensor> draw() throws OrtException, ModelException {
        Map<String, OnnxTensor> set = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, NodeInfo> e : inputs.entrySet()) {
                set.put(e.getKey(), create(env, e.getKey(), e.getValue().getInfo(), stream));
            }
        } catch (OrtException | ModelException | RuntimeException ex) {
            set.values().forEach(OnnxTensor::close);
            throw ex;
        }
        return set;
    }

    @Override
    public Inputs next() throws OrtException {
        if (stream != null) {
            try {
                return new Inputs(draw(), true);
            } catch (ModelException e) {
                // the constructor's draw made the same inputs, so this cannot happen after a successful load
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
        Map<String, OnnxTensor> set = variants.get(next);
        next = (next + 1) % variants.size();
        return new Inputs(set, false);
    }

    @Override
    public void close() {
        for (Map<String, OnnxTensor> set : variants) {
            set.values().forEach(OnnxTensor::close);
        }
        variants.clear();
    }
}
