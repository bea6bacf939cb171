package io.edgefleet.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.onnx.OnnxBuilder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The scenario models themselves: deterministic, runnable in ONNX Runtime, and as slow or fast as the scenarios assume. */
class TestModelsTest {

    @Test
    void mlpIsDeterministicPerSeedAndDiffersAcrossSeeds() {
        TestModels.Model a = TestModels.mlp(1);
        assertArrayEquals(a.bytes(), TestModels.mlp(1).bytes(), "same seed must give the same bytes (and sha256)");
        assertFalse(Arrays.equals(a.bytes(), TestModels.mlp(2).bytes()), "another seed must give another model version");
    }

    @Test
    void heavyModelIsAnOrderOfMagnitudeSlowerThanTheMlp() {
        TestModels.Model mlp = TestModels.mlp(1);
        TestModels.Model heavy = TestModels.heavy(3, Scenarios.HEAVY_SIZE, Scenarios.HEAVY_LAYERS);
        System.out.printf("model latency (1 thread): %s %.3f ms, %s %.1f ms, artifact %d bytes%n",
                mlp.description(), mlp.medianLatencyMs(), heavy.description(), heavy.medianLatencyMs(), heavy.bytes().length);
        assertTrue(heavy.medianLatencyMs() > 10 * Math.max(mlp.medianLatencyMs(), 0.1),
                "heavy " + heavy.medianLatencyMs() + " ms vs mlp " + mlp.medianLatencyMs() + " ms");
    }

    @Test
    void redundantMlpWithPositionsIsTheOneRowNetworkAveragedOverThem() {
        int positions = 4;
        byte[] rows = TestModels.redundantMlp(7, 0).bytes();
        byte[] sequence = TestModels.redundantMlp(7, positions).bytes();
        float[] row = OnnxBuilder.randomNormal(70, TestModels.RMLP_IN, 1f);
        float[] same = new float[positions * TestModels.RMLP_IN];
        for (int p = 0; p < positions; p++) {
            System.arraycopy(row, 0, same, p * TestModels.RMLP_IN, TestModels.RMLP_IN);
        }
        float[] one = TestModels.run(rows, "x", new long[] {1, TestModels.RMLP_IN}, row)[0];
        float[] averaged = TestModels.run(sequence, "x", new long[] {1, positions, TestModels.RMLP_IN}, same)[0];
        assertEquals(TestModels.RMLP_OUT, one.length);
        assertArrayEquals(one, averaged, 1e-4f, "the mean of identical positions is that position: same weights, same logits");
        float[] mixed = OnnxBuilder.randomNormal(71, positions * TestModels.RMLP_IN, 1f);
        float[] other = TestModels.run(sequence, "x", new long[] {1, positions, TestModels.RMLP_IN}, mixed)[0];
        assertFalse(Arrays.equals(one, other), "other positions must give other logits");
        assertThrows(IllegalArgumentException.class, () -> TestModels.redundantMlp(7, -1));
    }
}
