package io.edgefleet.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
