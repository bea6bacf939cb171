package io.edgefleet.engine.eval;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.HalfFloat;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.onnx.ValueInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One ONNX Runtime session over an {@link OnnxModel}, fed and read as {@link TensorData}. Close it: it owns native
 * memory. Also the place for activation capture (intermediate values exposed as outputs on a copy of the model).
 *
 * <p>Not thread-safe for concurrent {@link #run} calls from several threads on purpose: the engine measures and
 * evaluates sequentially, and one session per job keeps memory predictable.
 */
public final class OrtRunner implements AutoCloseable {

    /** ONNX Runtime graph optimization levels. */
    public enum Optimization {
        NONE(OrtSession.SessionOptions.OptLevel.NO_OPT),
        BASIC(OrtSession.SessionOptions.OptLevel.BASIC_OPT),
        EXTENDED(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT),
        ALL(OrtSession.SessionOptions.OptLevel.ALL_OPT);

        private final OrtSession.SessionOptions.OptLevel level;

        Optimization(OrtSession.SessionOptions.OptLevel level) {
            this.level = level;
        }
    }

    /** Session settings. One intra-op thread by default: stable timings and fair on a shared machine. */
    public record Options(int intraOpThreads, Optimization optimization) {
        public Options {
            if (intraOpThreads < 1) {
                throw new IllegalArgumentException("intraOpThreads must be >= 1, got " + intraOpThreads);
            }
        }

        public static Options defaults() {
            return new Options(1, Optimization.ALL);
        }

        public Options withThreads(int threads) {
            return new Options(threads, optimization);
        }

        public Options withOptimization(Optimization level) {
            return new Options(intraOpThreads, level);
        }
    }

    /** Receives captured values batch by batch, so callers can aggregate without holding everything. */
    @FunctionalInterface
    public interface ActivationVisitor {
        /**
         * @param firstSample index in the dataset of the first sample in this batch
         * @param sampleCount samples in this batch
         * @param values requested value name to its tensor for this batch (valid only during the call)
         */
        void visit(int firstSample, int sampleCount, Map<String, TensorData> values);
    }

    private final OrtEnvironment env;
    private final OrtSession.SessionOptions sessionOptions;
    private final OrtSession session;
    private final OnnxModel model;

    private OrtRunner(OnnxModel model, Options options) {
        this.model = model;
        this.env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        try {
            so.setIntraOpNumThreads(options.intraOpThreads());
            so.setInterOpNumThreads(1);
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            so.setOptimizationLevel(options.optimization().level);
            // ORT warns on stderr about legacy opsets and fallbacks; the engine reports problems itself.
            so.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            this.session = env.createSession(model.toBytes(), so);
        } catch (OrtException e) {
            so.close();
            throw new ModelLoadException("ONNX Runtime cannot load model '" + model.graphName() + "': "
                    + firstLine(e.getMessage()), e);
        }
        this.sessionOptions = so;
    }

    /**
     * Opens a session.
     *
     * @throws ModelLoadException if ONNX Runtime refuses the model
     */
    public static OrtRunner open(OnnxModel model, Options options) {
        return new OrtRunner(model, options);
    }

    public static OrtRunner open(OnnxModel model) {
        return open(model, Options.defaults());
    }

    public OnnxModel model() {
        return model;
    }

    public List<String> inputNames() {
        return new ArrayList<>(session.getInputNames());
    }

    public List<String> outputNames() {
        return new ArrayList<>(session.getOutputNames());
    }

    /**
     * Convenience for single-input models: feeds a float batch of the given shape and returns the first output's
     * values as floats.
     */
    public float[] runFloats(float[] values, long... shape) {
        List<String> inputs = inputNames();
        if (inputs.size() != 1) {
            throw new IllegalStateException("runFloats needs a single-input model; this one takes " + inputs);
        }
        Map<String, TensorData> out = run(Map.of(inputs.get(0), TensorData.ofFloats(inputs.get(0), shape, values)));
        return out.values().iterator().next().toFloatArray();
    }

    /** Runs the model and returns every tensor output, in the model's output order. */
    public Map<String, TensorData> run(Map<String, TensorData> inputs) {
        return run(inputs, session.getOutputNames());
    }

    /**
     * Runs the model and returns the named outputs.
     *
     * @throws EngineException when ONNX Runtime fails (bad shapes at run time, a kernel error) or an output is not a
     *     tensor
     */
    public Map<String, TensorData> run(Map<String, TensorData> inputs, Collection<String> outputs) {
        Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, TensorData> e : inputs.entrySet()) {
                feeds.put(e.getKey(), toOrt(env, e.getValue()));
            }
            try (OrtSession.Result result = session.run(feeds, new LinkedHashSet<>(outputs))) {
                Map<String, TensorData> out = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> e : result) {
                    if (!(e.getValue() instanceof OnnxTensor t)) {
                        throw new EngineException("output '" + e.getKey() + "' is a " + e.getValue().getType()
                                + ", not a tensor; the engine evaluates tensor outputs only");
                    }
                    out.put(e.getKey(), fromOrt(e.getKey(), t));
                }
                return out;
            }
        } catch (OrtException e) {
            throw new EngineException("ONNX Runtime failed to run model '" + model.graphName() + "': "
                    + firstLine(e.getMessage()), e);
        } finally {
            for (OnnxTensor t : feeds.values()) {
                t.close();
            }
        }
    }

    /**
     * Runs once and discards the outputs (latency measurement): feeds are converted once by the caller via
     * {@link #prepare} so only the session run is timed.
     */
    public void runPrepared(Prepared feeds) {
        try (OrtSession.Result ignored = session.run(feeds.tensors)) {
            // outputs are freed on close
        } catch (OrtException e) {
            throw new EngineException("ONNX Runtime failed to run model '" + model.graphName() + "': "
                    + firstLine(e.getMessage()), e);
        }
    }

    /** Native tensors built once and reused across runs; close after use. */
    public static final class Prepared implements AutoCloseable {
        private final Map<String, OnnxTensor> tensors;

        private Prepared(Map<String, OnnxTensor> tensors) {
            this.tensors = tensors;
        }

        @Override
        public void close() {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    public Prepared prepare(Map<String, TensorData> inputs) {
        Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, TensorData> e : inputs.entrySet()) {
                feeds.put(e.getKey(), toOrt(env, e.getValue()));
            }
            return new Prepared(feeds);
        } catch (OrtException | RuntimeException e) {
            feeds.values().forEach(OnnxTensor::close);
            throw new EngineException("cannot create input tensors: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new EngineException("closing an ONNX Runtime session failed", e);
        } finally {
            sessionOptions.close();
        }
    }

    // ---------------------------------------------------------------- activation capture

    /**
     * A copy of the model in which the named values of the main graph are also graph outputs, so a session returns
     * them. Values inside If/Loop bodies cannot be exposed this way and are refused.
     *
     * @throws IllegalArgumentException for a name the main graph neither produces nor takes as input/initializer
     */
    public static OnnxModel exposeValues(OnnxModel model, Collection<String> valueNames) {
        Graph g = model.edit();
        Set<String> known = new LinkedHashSet<>();
        for (ValueInfo v : g.inputs()) {
            known.add(v.name());
        }
        known.addAll(g.initializerNames());
        for (NodeProto n : g.nodes()) {
            known.addAll(n.getOutputList());
        }
        for (String name : valueNames) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException("value '" + name + "' is not produced in the main graph of '"
                        + model.graphName() + "' (values inside If/Loop bodies cannot be captured)");
            }
            if (g.isGraphOutput(name)) {
                continue;
            }
            // Type and shape from value_info when the model has them; ONNX Runtime infers them otherwise.
            ValueInfo info = g.valueInfo(name).orElse(null);
            g.addOutput(info != null ? info : ValueInfo.tensor(name, ElemType.UNDEFINED, null));
        }
        ModelProto proto = g.toModel().proto();
        // Untyped outputs must not carry an empty TypeProto, which ORT rejects; strip it.
        ModelProto.Builder b = proto.toBuilder();
        for (int i = 0; i < b.getGraph().getOutputCount(); i++) {
            ValueInfoProto o = b.getGraph().getOutput(i);
            if (o.hasType() && o.getType().hasTensorType() && o.getType().getTensorType().getElemType() == 0) {
                b.getGraphBuilder().setOutput(i, ValueInfoProto.newBuilder().setName(o.getName()));
            }
        }
        return OnnxModel.of(b.build());
    }

    /**
     * Streams the named values over the first {@code maxSamples} samples of {@code data}, {@code batchSize} samples
     * per run (capped by what the model's inputs allow). Memory stays at one batch.
     */
    public static void streamActivations(OnnxModel model, Dataset data, Collection<String> valueNames, int maxSamples,
            Options options, int batchSize, ActivationVisitor visitor) {
        data.validateFor(model);
        OnnxModel exposed = exposeValues(model, valueNames);
        int total = Math.min(maxSamples, data.size());
        int batch = data.batchLimit(model, batchSize);
        List<String> names = new ArrayList<>(new LinkedHashSet<>(valueNames));
        try (OrtRunner runner = open(exposed, options)) {
            for (int from = 0; from < total; from += batch) {
                int to = Math.min(total, from + batch);
                Map<String, TensorData> values = runner.run(data.feeds(model, from, to), names);
                visitor.visit(from, to - from, values);
            }
        }
    }

    /**
     * The named values for each of the first {@code maxSamples} samples, one sample per run: {@code result.get(name)[i]}
     * is the flattened value for sample {@code i}, converted to float. Holds everything in memory; prefer
     * {@link #streamActivations} for large models.
     */
    public static Map<String, float[][]> captureActivations(OnnxModel model, Dataset data, List<String> valueNames,
            int maxSamples) {
        return captureActivations(model, data, valueNames, maxSamples, Options.defaults());
    }

    public static Map<String, float[][]> captureActivations(OnnxModel model, Dataset data, List<String> valueNames,
            int maxSamples, Options options) {
        int total = Math.min(maxSamples, data.size());
        Map<String, float[][]> out = new LinkedHashMap<>();
        for (String name : valueNames) {
            out.put(name, new float[total][]);
        }
        streamActivations(model, data, valueNames, total, options, 1, (first, count, values) -> {
            for (Map.Entry<String, TensorData> e : values.entrySet()) {
                // Each run yields fresh arrays, so keeping the backing array is safe.
                out.get(e.getKey())[first] = e.getValue().toFloatArray();
            }
        });
        return out;
    }

    /**
     * Actual shapes of every tensor value of the main graph for one run with the given feeds: node outputs, inputs
     * and initializers. This is how the engine learns intermediate shapes without its own shape inference.
     */
    public static Map<String, long[]> probeShapes(OnnxModel model, Map<String, TensorData> feeds, Options options) {
        Graph g = model.edit();
        Set<String> names = new LinkedHashSet<>();
        for (NodeProto n : g.nodes()) {
            for (String o : n.getOutputList()) {
                if (!o.isEmpty()) {
                    names.add(o);
                }
            }
        }
        OnnxModel exposed = exposeValues(model, names);
        Map<String, long[]> shapes = new HashMap<>();
        for (ValueInfo v : model.inputs()) {
            TensorData t = feeds.get(v.name());
            if (t != null) {
                shapes.put(v.name(), t.shape());
            }
        }
        for (String init : g.initializerNames()) {
            g.initializerProto(init).ifPresent(p -> shapes.put(init, io.edgefleet.engine.onnx.Tensors.dims(p)));
        }
        try (OrtRunner runner = open(exposed, options)) {
            Map<String, OnnxTensor> ortFeeds = new LinkedHashMap<>();
            try {
                for (Map.Entry<String, TensorData> e : feeds.entrySet()) {
                    ortFeeds.put(e.getKey(), toOrt(runner.env, e.getValue()));
                }
                try (OrtSession.Result result = runner.session.run(ortFeeds, names)) {
                    for (Map.Entry<String, OnnxValue> e : result) {
                        if (e.getValue() instanceof OnnxTensor t) {
                            shapes.put(e.getKey(), t.getInfo().getShape());
                        }
                    }
                }
            } catch (OrtException e) {
                throw new EngineException("ONNX Runtime failed to run model '" + model.graphName() + "': "
                        + firstLine(e.getMessage()), e);
            } finally {
                ortFeeds.values().forEach(OnnxTensor::close);
            }
        }
        return shapes;
    }

    /**
     * Inputs for one sample built from the model's declared shapes (symbolic or unknown dims become 1), filled with a
     * deterministic ramp so nothing divides by zero. For inspecting a model without data.
     */
    public static Map<String, TensorData> syntheticFeeds(OnnxModel model) {
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (ValueInfo in : model.inputs()) {
            if (!in.hasShape()) {
                throw new EngineException("input '" + in.name() + "' has no declared shape; provide data to run the model");
            }
            long[] dims = in.staticDims();
            for (int i = 0; i < dims.length; i++) {
                if (dims[i] < 0) {
                    dims[i] = 1;
                }
            }
            int n = Math.toIntExact(TensorData.countOf(dims));
            switch (in.type()) {
                case FLOAT -> {
                    float[] v = new float[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = (i % 17) / 17f;
                    }
                    out.put(in.name(), TensorData.ofFloats(in.name(), dims, v));
                }
                case INT64 -> out.put(in.name(), TensorData.ofInt64(in.name(), dims, new long[n]));
                case INT32 -> out.put(in.name(), TensorData.ofInts(in.name(), ElemType.INT32, dims, new int[n]));
                default -> throw new EngineException("input '" + in.name() + "' is " + in.type().displayName()
                        + "; synthetic inputs cover float32, int32 and int64 only; provide data");
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- conversions

    static OnnxTensor toOrt(OrtEnvironment env, TensorData t) throws OrtException {
        long[] shape = t.shape();
        return switch (t.type()) {
            case FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), shape);
            case DOUBLE -> OnnxTensor.createTensor(env, DoubleBuffer.wrap(t.doubles()), shape);
            case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs()), shape);
            case INT32 -> OnnxTensor.createTensor(env, IntBuffer.wrap(t.ints()), shape);
            case INT16 -> {
                short[] s = new short[t.elementCount()];
                int[] v = t.ints();
                for (int i = 0; i < s.length; i++) {
                    s[i] = (short) v[i];
                }
                yield OnnxTensor.createTensor(env, ShortBuffer.wrap(s), shape, OnnxJavaType.INT16);
            }
            case FLOAT16 -> {
                short[] s = new short[t.elementCount()];
                float[] v = t.floats();
                for (int i = 0; i < s.length; i++) {
                    s[i] = HalfFloat.floatToHalf(v[i]);
                }
                yield OnnxTensor.createTensor(env, ShortBuffer.wrap(s), shape, OnnxJavaType.FLOAT16);
            }
            case INT8, UINT8, BOOL -> {
                int[] v = t.ints();
                ByteBuffer b = ByteBuffer.allocateDirect(v.length).order(ByteOrder.nativeOrder());
                for (int x : v) {
                    b.put((byte) x);
                }
                b.flip();
                OnnxJavaType jt = t.type() == ElemType.INT8 ? OnnxJavaType.INT8
                        : t.type() == ElemType.UINT8 ? OnnxJavaType.UINT8 : OnnxJavaType.BOOL;
                yield OnnxTensor.createTensor(env, b, shape, jt);
            }
            default -> throw new EngineException("cannot feed " + t.type().displayName() + " tensor '" + t.name()
                    + "' to ONNX Runtime from Java");
        };
    }

    static TensorData fromOrt(String name, OnnxTensor t) {
        TensorInfo info = t.getInfo();
        long[] shape = info.getShape();
        int n = Math.toIntExact(info.getNumElements());
        switch (info.type) {
            case FLOAT -> {
                float[] v = new float[n];
                t.getFloatBuffer().get(v);
                return TensorData.ofFloats(name, shape, v);
            }
            case DOUBLE -> {
                double[] v = new double[n];
                t.getDoubleBuffer().get(v);
                return TensorData.ofDoubles(name, shape, v);
            }
            case INT64 -> {
                long[] v = new long[n];
                t.getLongBuffer().get(v);
                return TensorData.ofInt64(name, shape, v);
            }
            case INT32 -> {
                int[] v = new int[n];
                t.getIntBuffer().get(v);
                return TensorData.ofInts(name, ElemType.INT32, shape, v);
            }
            case INT16 -> {
                ShortBuffer s = t.getShortBuffer();
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    v[i] = s.get(i);
                }
                return TensorData.ofInts(name, ElemType.INT16, shape, v);
            }
            case FLOAT16, BFLOAT16 -> {
                ShortBuffer s = t.getShortBuffer();
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = info.type == OnnxJavaType.FLOAT16 ? HalfFloat.halfToFloat(s.get(i)) : HalfFloat.bfloat16ToFloat(s.get(i));
                }
                return info.type == OnnxJavaType.FLOAT16 ? TensorData.ofFloat16(name, shape, v)
                        : TensorData.ofBFloat16(name, shape, v);
            }
            case INT8, UINT8, BOOL -> {
                ByteBuffer b = t.getByteBuffer();
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    v[i] = info.type == OnnxJavaType.INT8 ? b.get(i) : b.get(i) & 0xFF;
                }
                ElemType et = info.type == OnnxJavaType.INT8 ? ElemType.INT8
                        : info.type == OnnxJavaType.UINT8 ? ElemType.UINT8 : ElemType.BOOL;
                return TensorData.ofInts(name, et, shape, v);
            }
            default -> throw new EngineException("output '" + name + "' has element type " + info.type
                    + ", which the engine cannot read from ONNX Runtime");
        }
    }

    static String firstLine(String message) {
        if (message == null) {
            return "(no message)";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

    /** Output infos straight from the session (shapes with -1 for symbolic dims). */
    public Map<String, NodeInfo> outputInfo() {
        try {
            return session.getOutputInfo();
        } catch (OrtException e) {
            throw new EngineException("cannot read output info", e);
        }
    }
}
