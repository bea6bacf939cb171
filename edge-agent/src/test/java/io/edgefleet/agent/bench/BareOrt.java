package io.edgefleet.agent.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Random;

/**
 * The reference process of {@link ServingFootprint}: ONNX Runtime alone, one session with the agent's options,
 * one inference every 50 ms on a [1, 1, 8, 8] float input. Prints {@code first} after its first inference.
 * {@code java ... BareOrt model.onnx inputName}.
 */
public final class BareOrt {
    private BareOrt() {
    }

    public static void main(String[] args) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "bare");
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(1);
        o.setInterOpNumThreads(1);
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        try (OrtSession s = env.createSession(args[0], o)) {
            Random rnd = new Random(1);
            float[] x = new float[64];
            boolean first = true;
            while (true) {
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, 1, 8, 8});
                     OrtSession.Result r = s.run(Map.of(args[1], t))) {
                    if (first) {
                        System.out.println("first");
                        System.out.flush();
                        first = false;
                    }
                }
                Thread.sleep(50);
            }
        }
    }
}
