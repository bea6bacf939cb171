package io.edgefleet.agent.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.edgefleet.protocol.ReasonCode;
import java.io.IOException;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
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

    /**
     * @param dataset samples to feed, or null for synthetic inputs
     */
    public OrtModelRunner(int intraOpThreads, NpzDataset dataset) {
        this.intraOpThreads = intraOpThreads;
        this.dataset = dataset;
    }

    /** Reads the input folder once; a broken folder is a configuration error at start, not at deploy time. */
    public static OrtModelRunner forInput(int intraOpThreads, String input) throws IOException {
        return new OrtModelRunner(intraOpThreads, "synthetic".equals(input) ? null : NpzDataset.load(Path.of(input)));
    }

    public static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "edgefleet-agent");
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
                NpzFeed.Result r = NpzFeed.forModel(env, dataset, inputs);
                if (r.feed() != null) {
                    feed = r.feed();
                } else {
                    LOG.log(System.Logger.Level.WARNING, "input folder " + dataset.folder() + " does not fit model "
                            + modelFile.getFileName() + " (" + r.mismatch() + "); feeding synthetic inputs instead");
                }
            }
            if (feed == null) {
                feed = new SyntheticFeed(env, inputs, SYNTHETIC_VARIANTS, modelFile.toString().hashCode());
            }
            return new OrtLoadedModel(env, session, inputs, feed);
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

    private static final class OrtLoadedModel implements LoadedModel {
        private final OrtEnvironment env;
        private final OrtSession session;
        private final Map<String, NodeInfo> inputs;
        private final InputFeed feed;
        private boolean closed;

        OrtLoadedModel(OrtEnvironment env, OrtSession session, Map<String, NodeInfo> inputs, InputFeed feed) {
            this.env = env;
            this.session = session;
            this.inputs = inputs;
            this.feed = feed;
        }

        @Override
        public synchronized void infer() throws OrtException {
            run(false);
        }

        @Override
        public synchronized Observation inferObserved() throws OrtException {
            return run(true);
        }

        private Observation run(boolean observe) throws OrtException {
            if (closed) {
                throw new IllegalStateException("model is closed");
            }
            InputFeed.Inputs in = feed.next();
            try (OrtSession.Result result = session.run(in.tensors())) {
                return observe ? Observations.of(in.tensors(), result) : null;
            } finally {
                if (in.callerCloses()) {
                    in.tensors().values().forEach(OnnxTensor::close);
                }
            }
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
