package io.edgefleet.agent.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.protocol.ReasonCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime adapter. One {@link OrtEnvironment} per JVM (ONNX Runtime allows only one, so many
 * agents in a simulator share it); one session per loaded model with the configured intra-op threads.
 */
public final class OrtModelRunner implements ModelRunner {
    private static final System.Logger LOG = System.getLogger(OrtModelRunner.class.getName());
    private static final int SYNTHETIC_VARIANTS = 4;

    private final int intraOpThreads;
    private final NpzDataset dataset;
    private final InferenceFaults faults;
    /** Synthetic inputs drawn fresh for every inference instead of a few cycled variants. */
    private final boolean syntheticStream;

    /**
     * @param dataset samples to feed, or null for synthetic inputs
     */
    public OrtModelRunner(int intraOpThreads, NpzDataset dataset) {
        this(intraOpThreads, dataset, InferenceFaults.NONE);
    }

    /** A runner whose built-in loop suffers injected faults (the simulator's drift, slowdowns, error bursts). */
    public OrtModelRunner(int intraOpThreads, NpzDataset dataset, InferenceFaults faults) {
        this(intraOpThreads, dataset, faults, false);
    }

    private OrtModelRunner(int intraOpThreads, NpzDataset dataset, InferenceFaults faults, boolean syntheticStream) {
        this.intraOpThreads = intraOpThreads;
        this.dataset = dataset;
        this.faults = faults == null ? InferenceFaults.NONE : faults;
        this.syntheticStream = syntheticStream;
    }

    /**
     * Reads the input folder once; a broken folder is a configuration error at start, not at deploy time.
     * {@code input} is {@value AgentConfig#SYNTHETIC} (a few synthetic variants, cycled),
     * {@value AgentConfig#SYNTHETIC_STREAM} (a fresh synthetic draw per inference) or a folder of {@code .npz} files.
     */
    public static OrtModelRunner forInput(int intraOpThreads, String input) throws IOException {
        return forInput(intraOpThreads, input, InferenceFaults.NONE);
    }

    /** As {@link #forInput(int, String)}, with faults injected into every inference (the simulator). */
    public static OrtModelRunner forInput(int intraOpThreads, String input, InferenceFaults faults) throws IOException {
        boolean synthetic = AgentConfig.SYNTHETIC.equals(input) || AgentConfig.SYNTHETIC_STREAM.equals(input);
        return new OrtModelRunner(intraOpThreads, synthetic ? null : NpzDataset.load(Path.of(input)), faults,
                AgentConfig.SYNTHETIC_STREAM.equals(input));
    }

    /** Stack of the thread that creates ONNX Runtime's environment, see {@link #environment()}. */
    static final long ENVIRONMENT_THREAD_STACK = 64L * 1024 * 1024;
    private static volatile OrtEnvironment environment;

    /**
     * The process's ONNX Runtime environment. The first call creates it on a thread of its own with a 64 MiB stack
     * and waits: creating it recursed through more than 11,000 native frames in ONNX Runtime 1.29 and overflowed
     * the 1 MiB stack of an ordinary Java thread, which kills the JVM with a SIGSEGV and no crash log (seen for an
     * agent started with a long module classpath: exit code 139 right after the first model was verified). The
     * stack is reserved, not committed: only what the recursion touches costs memory, once.
     */
    public static OrtEnvironment environment() {
        OrtEnvironment e = environment;
        if (e != null) {
            return e;
        }
        synchronized (OrtModelRunner.class) {
            if (environment == null) {
                Object[] out = new Object[1];
                Thread t = new Thread(null, () -> {
                    try {
                        out[0] = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "edgefleet-agent");
                    } catch (Throwable x) {
                        out[0] = x;
                    }
                }, "ort-environment", ENVIRONMENT_THREAD_STACK);
                t.setDaemon(true);
                t.start();
                boolean interrupted = false;
                while (t.isAlive()) {
                    try {
                        t.join();
                    } catch (InterruptedException ie) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                if (out[0] instanceof RuntimeException re) {
                    throw re;
                }
                if (out[0] instanceof Error er) {
                    throw er;
                }
                if (!(out[0] instanceof OrtEnvironment created)) {
                    throw new IllegalStateException("ONNX Runtime's environment could not be created: " + out[0]);
                }
                environment = created;
            }
            return environment;
        }
    }

    @Override
    public LoadedModel load(Path modelFile) throws ModelException {
        OrtEnvironment env = environment();
        OrtSession session = null;
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(intraOpThreads);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(modelFile.toString(), opts);
            Map<String, NodeInfo> inputs = session.getInputInfo();
            InputFeed feed = null;
            if (dataset != null) {
                NpzFeed.Result r = NpzFeed.forModel(env, dataset, inputs, faults);
                if (r.feed() != null) {
                    feed = r.feed();
                } else {
                    LOG.log(System.Logger.Level.WARNING, "input folder " + dataset.folder() + " does not fit model "
                            + modelFile.getFileName() + " (" + r.mismatch() + "); feeding synthetic inputs instead");
                }
            }
            if (feed == null) {
                feed = syntheticStream ? SyntheticFeed.stream(env, inputs, modelFile.toString().hashCode())
                        : new SyntheticFeed(env, inputs, SYNTHETIC_VARIANTS, modelFile.toString().hashCode());
            }
            return new OrtLoadedModel(env, session, inputs, specs(inputs), specs(session.getOutputInfo()), feed, faults);
        } catch (OrtException e) {
            closeQuietly(session);
            throw new ModelException(ReasonCode.LOAD_FAILED, "ONNX Runtime cannot load the model: " + firstLine(e.getMessage()), e);
        } catch (ModelException e) {
            closeQuietly(session);
            throw e;
        } catch (RuntimeException e) {
            closeQuietly(session);
            throw new ModelException(ReasonCode.LOAD_FAILED, "cannot prepare the model: " + e.getMessage(), e);
        }
    }

    static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
        List<TensorSpec> out = new ArrayList<>();
        for (Map.Entry<String, NodeInfo> e : infos.entrySet()) {
            if (e.getValue().getInfo() instanceof TensorInfo t) {
                ElementType type = elementType(t.type);
                out.add(new TensorSpec(e.getKey(), type, t.type.name(), t.getShape()));
            } else {
                String kind = e.getValue().getInfo().getClass().getSimpleName().replace("Info", "").toUpperCase(java.util.Locale.ROOT);
                out.add(new TensorSpec(e.getKey(), ElementType.OTHER, kind, new long[0]));
            }
        }
        return List.copyOf(out);
    }

    static ElementType elementType(OnnxJavaType t) {
        return switch (t) {
            case FLOAT -> ElementType.FLOAT;
            case DOUBLE -> ElementType.DOUBLE;
            case INT64 -> ElementType.INT64;
            case INT32 -> ElementType.INT32;
            case INT16 -> ElementType.INT16;
            case INT8 -> ElementType.INT8;
            case UINT8 -> ElementType.UINT8;
            case BOOL -> ElementType.BOOL;
            default -> ElementType.OTHER;
        };
    }

    /** A plain tensor as an ONNX Runtime tensor (the runtime copies heap buffers into native memory). */
    static OnnxTensor toOrt(OrtEnvironment env, Tensor t) throws OrtException {
        long[] shape = t.shape();
        return switch (t.type()) {
            case FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap((float[]) t.values()), shape);
            case DOUBLE -> OnnxTensor.createTensor(env, DoubleBuffer.wrap((double[]) t.values()), shape);
            case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap((long[]) t.values()), shape);
            case INT32 -> OnnxTensor.createTensor(env, IntBuffer.wrap((int[]) t.values()), shape);
            case INT16 -> OnnxTensor.createTensor(env, ShortBuffer.wrap((short[]) t.values()), shape);
            case INT8 -> OnnxTensor.createTensor(env, ByteBuffer.wrap((byte[]) t.values()), shape, OnnxJavaType.INT8);
            case UINT8 -> OnnxTensor.createTensor(env, ByteBuffer.wrap((byte[]) t.values()), shape, OnnxJavaType.UINT8);
            case BOOL -> {
                boolean[] v = (boolean[]) t.values();
                byte[] b = new byte[v.length];
                for (int i = 0; i < v.length; i++) {
                    b[i] = (byte) (v[i] ? 1 : 0);
                }
                yield OnnxTensor.createTensor(env, ByteBuffer.wrap(b), shape, OnnxJavaType.BOOL);
            }
            case OTHER -> throw new IllegalArgumentException("cannot feed a tensor of type OTHER");
        };
    }

    /** An ONNX Runtime output as a plain tensor; outputs of other kinds are refused by name. */
    static Tensor fromOrt(String name, OnnxValue v) {
        if (!(v instanceof OnnxTensor t)) {
            throw new IllegalArgumentException("output '" + name + "' is a " + v.getType() + ", not a tensor");
        }
        TensorInfo info = t.getInfo();
        long[] shape = info.getShape();
        ElementType type = elementType(info.type);
        Object values = switch (type) {
            case FLOAT -> {
                FloatBuffer b = t.getFloatBuffer();
                float[] a = new float[b.remaining()];
                b.get(a);
                yield a;
            }
            case DOUBLE -> {
                DoubleBuffer b = t.getDoubleBuffer();
                double[] a = new double[b.remaining()];
                b.get(a);
                yield a;
            }
            case INT64 -> {
                LongBuffer b = t.getLongBuffer();
                long[] a = new long[b.remaining()];
                b.get(a);
                yield a;
            }
            case INT32 -> {
                IntBuffer b = t.getIntBuffer();
                int[] a = new int[b.remaining()];
                b.get(a);
                yield a;
            }
            case INT16 -> {
                ShortBuffer b = t.getShortBuffer();
                short[] a = new short[b.remaining()];
                b.get(a);
                yield a;
            }
            case INT8, UINT8 -> {
                ByteBuffer b = t.getByteBuffer();
                byte[] a = new byte[b.remaining()];
                b.get(a);
                yield a;
            }
            case BOOL -> {
                ByteBuffer b = t.getByteBuffer();
                boolean[] a = new boolean[b.remaining()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = b.get() != 0;
                }
                yield a;
            }
            case OTHER -> throw new IllegalArgumentException("output '" + name + "' has element type " + info.type
                    + ", which cannot be returned");
        };
        return new Tensor(type, shape, values);
    }

    private static void closeQuietly(OrtSession s) {
        if (s != null) {
            try {
                s.close();
            } catch (OrtException ignored) {
                // already failing; the original error is what matters
            }
        }
    }

    static String firstLine(String s) {
        if (s == null) {
            return "no message";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static final java.util.function.LongConsumer NOT_TIMED = nanos -> { };

    private static final class OrtLoadedModel implements LoadedModel {
        private final OrtEnvironment env;
        private final OrtSession session;
        private final Map<String, NodeInfo> inputs;
        private final List<TensorSpec> inputSpecs;
        private final List<TensorSpec> outputSpecs;
        private final InputFeed feed;
        private final InferenceFaults faults;
        private boolean closed;

        OrtLoadedModel(OrtEnvironment env, OrtSession session, Map<String, NodeInfo> inputs, List<TensorSpec> inputSpecs,
                       List<TensorSpec> outputSpecs, InputFeed feed, InferenceFaults faults) {
            this.env = env;
            this.session = session;
            this.inputs = inputs;
            this.inputSpecs = inputSpecs;
            this.outputSpecs = outputSpecs;
            this.feed = feed;
            this.faults = faults;
        }

        @Override
        public List<TensorSpec> inputs() {
            return inputSpecs;
        }

        @Override
        public List<TensorSpec> outputs() {
            return outputSpecs;
        }

        /**
         * Not synchronized: ONNX Runtime sessions run concurrently. The caller guarantees the session
         * is not closed meanwhile (the serving lease), so no check of {@code closed} is needed here.
         */
        @Override
        public Map<String, Tensor> run(Map<String, Tensor> in, Collection<String> outputNames) throws OrtException {
            Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
            try {
                for (Map.Entry<String, Tensor> e : in.entrySet()) {
                    tensors.put(e.getKey(), toOrt(env, e.getValue()));
                }
                try (OrtSession.Result result = session.run(tensors, new LinkedHashSet<>(outputNames))) {
                    Map<String, Tensor> out = new LinkedHashMap<>();
                    for (String name : outputNames) {
                        out.put(name, fromOrt(name, result.get(name).orElseThrow(
                                () -> new IllegalStateException("ONNX Runtime returned no output '" + name + "'"))));
                    }
                    return out;
                }
            } finally {
                tensors.values().forEach(OnnxTensor::close);
            }
        }

        @Override
        public synchronized void infer() throws OrtException {
            run(false, NOT_TIMED);
        }

        @Override
        public synchronized Observation inferObserved() throws OrtException {
            return run(true, NOT_TIMED);
        }

        @Override
        public synchronized Observation inferTimed(java.util.function.LongConsumer modelNanos) throws OrtException {
            return run(true, modelNanos);
        }

        private Observation run(boolean observe, java.util.function.LongConsumer modelNanos) throws OrtException {
            if (closed) {
                throw new IllegalStateException("model is closed");
            }
            try {
                faults.beforeRun();
            } catch (Exception e) {
                throw new IllegalStateException("injected fault: " + e.getMessage(), e);
            }
            InputFeed.Inputs in = feed.next();
            Map<String, OnnxTensor> tensors = faults.transformsInputs() ? transformed(in.tensors()) : in.tensors();
            long start = System.nanoTime();
            long ran = 0;
            try (OrtSession.Result result = session.run(tensors)) {
                ran = System.nanoTime() - start;
                return observe ? Observations.of(tensors, result) : null;
            } finally {
                if (tensors != in.tensors()) {
                    for (Map.Entry<String, OnnxTensor> e : tensors.entrySet()) {
                        if (e.getValue() != in.tensors().get(e.getKey())) {
                            e.getValue().close();
                        }
                    }
                }
                if (in.callerCloses()) {
                    in.tensors().values().forEach(OnnxTensor::close);
                }
                // An injected slowdown is part of the model's time: it emulates a slower run.
                long extra = faults.extraNanos(ran > 0 ? ran : System.nanoTime() - start);
                if (extra > 0) {
                    long parked = System.nanoTime();
                    java.util.concurrent.locks.LockSupport.parkNanos(extra);
                    ran += System.nanoTime() - parked;
                }
                if (ran > 0) {
                    modelNanos.accept(ran);
                }
            }
        }

        /** Float inputs passed through the fault's transform, as new tensors; other inputs as they are. */
        private Map<String, OnnxTensor> transformed(Map<String, OnnxTensor> original) throws OrtException {
            Map<String, OnnxTensor> out = new java.util.LinkedHashMap<>();
            for (Map.Entry<String, OnnxTensor> e : original.entrySet()) {
                OnnxTensor t = e.getValue();
                if (t.getInfo().type == ai.onnxruntime.OnnxJavaType.FLOAT) {
                    FloatBuffer b = t.getFloatBuffer();
                    float[] values = new float[b.remaining()];
                    b.get(values);
                    float[] changed = faults.input(e.getKey(), values);
                    out.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(changed), t.getInfo().getShape()));
                } else {
                    out.put(e.getKey(), t);
                }
            }
            return out;
        }

        @Override
        public synchronized void smokeTest() throws ModelException {
            try (SyntheticFeed probe = new SyntheticFeed(env, inputs, 1, 42)) {
                try (OrtSession.Result result = session.run(probe.next().tensors())) {
                    for (Map.Entry<String, OnnxValue> out : result) {
                        checkFinite(out.getKey(), out.getValue());
                    }
                }
            } catch (OrtException e) {
                throw new ModelException(ReasonCode.SMOKE_TEST_FAILED, "smoke inference failed: " + firstLine(e.getMessage()), e);
            }
        }

        private static void checkFinite(String name, OnnxValue v) throws ModelException {
            if (!(v instanceof OnnxTensor t)) {
                return;
            }
            TensorInfo info = t.getInfo();
            switch (info.type) {
                case FLOAT -> {
                    FloatBuffer b = t.getFloatBuffer();
                    for (int i = 0; i < b.limit(); i++) {
                        if (!Float.isFinite(b.get(i))) {
                            throw new ModelException(ReasonCode.SMOKE_TEST_FAILED,
                                    "smoke inference produced a non-finite value in output '" + name + "' at index " + i);
                        }
                    }
                }
                case DOUBLE -> {
                    DoubleBuffer b = t.getDoubleBuffer();
                    for (int i = 0; i < b.limit(); i++) {
                        if (!Double.isFinite(b.get(i))) {
                            throw new ModelException(ReasonCode.SMOKE_TEST_FAILED,
                                    "smoke inference produced a non-finite value in output '" + name + "' at index " + i);
                        }
                    }
                }
                default -> {
                    // integer and other outputs are always "finite"
                }
            }
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            feed.close();
            try {
                session.close();
            } catch (OrtException e) {
                LOG.log(System.Logger.Level.WARNING, "closing an ONNX Runtime session failed: " + e.getMessage());
            }
        }
    }
}
