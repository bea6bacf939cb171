package io.edgefleet.engine.quantize;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ONNX Runtime edge of the quantization passes: run a model on {@link TensorData} feeds and read float outputs,
 * optionally exposing intermediate values as extra outputs (for calibration and sensitivity analysis). Sessions are
 * closed by the caller ({@link Session} is AutoCloseable).
 */
public final class OrtSupport {
    private OrtSupport() {
    }

    /** A loaded model. */
    public static final class Session implements AutoCloseable {
        private final OrtEnvironment env = OrtEnvironment.getEnvironment();
        private final OrtSession session;

        private Session(byte[] model, int threads) throws OrtException {
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.setIntraOpNumThreads(threads);
                o.setInterOpNumThreads(1);
                o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                session = env.createSession(model, o);
            }
        }

        /** Runs once; returns every requested output as float32 values (float16/int outputs are widened). */
        public Map<String, float[]> run(Map<String, TensorData> feeds, Collection<String> outputs) throws OrtException {
            Map<String, OnnxTensor> in = new LinkedHashMap<>();
            try {
                for (Map.Entry<String, TensorData> e : feeds.entrySet()) {
                    in.put(e.getKey(), toOrt(env, e.getValue()));
                }
                Map<String, float[]> out = new LinkedHashMap<>();
                try (OrtSession.Result r = session.run(in, new LinkedHashSet<>(outputs))) {
                    for (String name : outputs) {
                        OnnxValue v = r.get(name).orElseThrow();
                        out.put(name, toFloats((OnnxTensor) v));
                    }
                }
                return out;
            } finally {
                for (OnnxTensor t : in.values()) {
                    t.close();
                }
            }
        }

        public Map<String, float[]> run(Map<String, TensorData> feeds) throws OrtException {
            return run(feeds, session.getOutputNames());
        }

        /** Runs with results discarded, for timing. */
        public void runDiscard(Map<String, OnnxTensor> feeds) throws OrtException {
            try (OrtSession.Result r = session.run(feeds)) {
                r.size();
            }
        }

        public Set<String> outputNames() {
            return session.getOutputNames();
        }

        public OrtEnvironment env() {
            return env;
        }

        @Override
        public void close() throws OrtException {
            session.close();
        }
    }

    public static Session open(OnnxModel model, int threads) throws OrtException {
        return new Session(model.toBytes(), threads);
    }

    /**
     * The model with {@code values} added as float graph outputs, so one run returns intermediate activations.
     * Values already among the outputs are not added twice.
     */
    public static OnnxModel withExtraOutputs(OnnxModel model, Collection<String> values) {
        ModelProto.Builder b = model.proto().toBuilder();
        Set<String> existing = new LinkedHashSet<>();
        for (ValueInfoProto v : b.getGraph().getOutputList()) {
            existing.add(v.getName());
        }
        for (String v : values) {
            if (existing.add(v)) {
                // element type left unset on purpose: ORT infers it, and a stale declared shape could be wrong
                b.getGraphBuilder().addOutput(ValueInfoProto.newBuilder().setName(v));
            }
        }
        return OnnxModel.of(b.build());
    }

    public static OnnxTensor toOrt(OrtEnvironment env, TensorData t) throws OrtException {
        long[] shape = t.shape();
        return switch (t.type()) {
            case FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), shape);
            case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs()), shape);
            case INT32 -> OnnxTensor.createTensor(env, IntBuffer.wrap(t.ints()), shape);
            case INT8, UINT8, BOOL -> {
                int[] v = t.ints();
                ByteBuffer bb = ByteBuffer.allocateDirect(v.length);
                for (int x : v) {
                    bb.put((byte) x);
                }
                bb.rewind();
                ai.onnxruntime.OnnxJavaType jt = switch (t.type()) {
                    case INT8 -> ai.onnxruntime.OnnxJavaType.INT8;
                    case UINT8 -> ai.onnxruntime.OnnxJavaType.UINT8;
                    default -> ai.onnxruntime.OnnxJavaType.BOOL;
                };
                yield OnnxTensor.createTensor(env, bb, shape, jt);
            }
            default -> throw new IllegalArgumentException("cannot feed a " + t.type().displayName() + " tensor");
        };
    }

    static float[] toFloats(OnnxTensor t) throws OrtException {
        ai.onnxruntime.TensorInfo info = t.getInfo();
        int n = (int) info.getNumElements();
        float[] out = new float[n];
        switch (info.type) {
            case FLOAT -> t.getFloatBuffer().get(out);
            case FLOAT16 -> {
                FloatBuffer fb = t.getFloatBuffer(); // ORT widens fp16 to float on read
                fb.get(out);
            }
            case DOUBLE -> {
                var db = t.getDoubleBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = (float) db.get(i);
                }
            }
            case INT64 -> {
                LongBuffer lb = t.getLongBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = lb.get(i);
                }
            }
            case INT32 -> {
                IntBuffer ib = t.getIntBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = ib.get(i);
                }
            }
            case INT8, UINT8 -> {
                ByteBuffer bb = t.getByteBuffer();
                boolean unsigned = info.type == ai.onnxruntime.OnnxJavaType.UINT8;
                for (int i = 0; i < n; i++) {
                    byte b = bb.get(i);
                    out[i] = unsigned ? b & 0xFF : b;
                }
            }
            default -> throw new IllegalArgumentException("cannot read a " + info.type + " output");
        }
        return out;
    }

    /** Element type from a declared value, FLOAT when unknown (the only type calibration looks at). */
    static boolean isFloat(ElemType t) {
        return t == ElemType.FLOAT || t == ElemType.UNDEFINED;
    }

    static List<String> names(Collection<String> c) {
        return List.copyOf(c);
    }
}
