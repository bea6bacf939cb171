package io.edgefleet.agent.serving;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.edgefleet.agent.inference.InferenceListener;
import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.protocol.ModelRef;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Shared helpers of the serving tests: real ONNX Runtime models built in code, refs, a counting listener. */
final class ServingFixtures {
    static final OrtModelRunner RUNNER = new OrtModelRunner(1, null);

    private ServingFixtures() {
    }

    static ModelRef ref(String name, long version) {
        return new ModelRef(name, version, "%064x".formatted(version));
    }

    static Path write(Path dir, String file, byte[] bytes) throws Exception {
        Path p = dir.resolve(file);
        Files.write(p, bytes);
        return p;
    }

    static LoadedModel load(Path file) throws Exception {
        return RUNNER.load(file);
    }

    /** What ONNX Runtime itself answers for a float input, without the agent in between. */
    static float[] direct(Path model, String input, float[] x, long[] shape, String output) throws Exception {
        OrtEnvironment env = OrtModelRunner.environment();
        try (OrtSession s = env.createSession(model.toString(), new OrtSession.SessionOptions());
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
             OrtSession.Result r = s.run(Map.of(input, t))) {
            FloatBuffer b = ((OnnxTensor) r.get(output).orElseThrow()).getFloatBuffer();
            float[] out = new float[b.remaining()];
            b.get(out);
            return out;
        }
    }

    /** Counts outcomes the way the telemetry recorder receives them. */
    static final class Counting implements InferenceListener {
        final AtomicLong successes = new AtomicLong();
        final AtomicLong errors = new AtomicLong();

        @Override
        public void onSuccess(long latencyNanos) {
            successes.incrementAndGet();
        }

        @Override
        public void onError(Throwable error) {
            errors.incrementAndGet();
        }
    }
}
