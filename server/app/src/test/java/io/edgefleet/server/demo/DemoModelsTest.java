package io.edgefleet.server.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DemoModelsTest {

    @Test
    void deterministicBytesPerSeed() {
        assertArrayEquals(DemoModels.classifier(), DemoModels.classifier());
        assertFalse(Arrays.equals(DemoModels.classifier(), DemoModels.classifier(7)));
    }

    /** Round trip through ONNX Runtime: the model runs and yields a probability distribution per row. */
    @Test
    void runsInOnnxRuntime() throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[][] input = new float[3][DemoModels.INPUTS];
        for (int r = 0; r < input.length; r++) {
            for (int c = 0; c < DemoModels.INPUTS; c++) {
                input[r][c] = (float) Math.sin(r * 31 + c);
            }
        }
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(DemoModels.classifier(), options);
             OnnxTensor x = OnnxTensor.createTensor(env, input);
             OrtSession.Result result = session.run(Map.of("input", x))) {
            float[][] probs = (float[][]) result.get("probabilities").orElseThrow().getValue();
            assertEquals(3, probs.length);
            for (float[] row : probs) {
                assertEquals(DemoModels.CLASSES, row.length);
                double sum = 0;
                for (float p : row) {
                    sum += p;
                }
                assertEquals(1.0, sum, 1e-5);
            }
            assertFalse(Arrays.equals(probs[0], probs[1]), "different inputs give different outputs");
        }
    }
}
