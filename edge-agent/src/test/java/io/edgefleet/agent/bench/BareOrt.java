package io.edgefleet.agent.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Random;

/**
 * The reference process of {@link ServingFootprint}: ONNX Runtime alone, one session per model with the agent's
 * options, one inference of each every 50 ms on a random float input of the model's shape (batch 1). Prints
 * {@code first} after its first round. {@code java ... BareOrt model.onnx inputName [more.onnx ...]}.
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
        java.util.List<String> paths = new java.util.ArrayList<>(java.util.List.of(args[0]));
        paths.addAll(java.util.Arrays.asList(args).subList(2, args.length));
        java.util.List<OrtSession> sessions = new java.util.ArrayList<>();
        java.util.List<String> inputs = new java.util.ArrayList<>();
        java.util.List<long[]> shapes = new java.util.ArrayList<>();
        for (String path : paths) {
            OrtSession s = env.createSession(path, o);
            sessions.add(s);
            var in = s.getInputInfo().entrySet().iterator().next();
            inputs.add(sessions.size() == 1 ? args[1] : in.getKey());
            long[] shape = ((ai.onnxruntime.TensorInfo) in.getValue().getInfo()).getShape().clone();
            for (int i = 0; i < shape.length; i++) {
                shape[i] = Math.max(1, shape[i]);
            }
            shapes.add(shape);
        }
        Random rnd = new Random(1);
        boolean first = true;
        while (true) {
            for (int m = 0; m < sessions.size(); m++) {
                long[] shape = shapes.get(m);
                float[] x = new float[(int) java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                     OrtSession.Result r = sessions.get(m).run(Map.of(inputs.get(m), t))) {
                    r.size();
                }
            }
            if (first) {
                System.out.println("first");
                System.out.flush();
                first = false;
            }
            Thread.sleep(50);
        }
    }
}
