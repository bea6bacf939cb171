package io.edgefleet.agent.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.NpyFormatException;
import io.edgefleet.protocol.data.Npz;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ONNX Runtime adapter against real (tiny) models built in the test. */
class OrtModelRunnerTest {
    @TempDir
    Path dir;

    final OrtModelRunner synthetic = new OrtModelRunner(1, null);

    Path write(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void loadsRunsAndSmokeTestsAModelWithADynamicBatchDimension() throws Exception {
        try (LoadedModel m = synthetic.load(write("linear.onnx", TinyOnnx.linear()))) {
            m.smokeTest();
            for (int i = 0; i < 20; i++) {
                m.infer();
            }
        }
    }

    @Test
    void integerInputsGetSmallNonNegativeValues() throws Exception {
        try (LoadedModel m = synthetic.load(write("cast.onnx", TinyOnnx.castInt64()))) {
            m.smokeTest();
            m.infer();
        }
    }

    @Test
    void bytesThatAreNotAModelFailToLoadWithAReason() throws Exception {
        ModelException e = assertThrows(ModelException.class,
                () -> synthetic.load(write("junk.onnx", "definitely not protobuf".getBytes())));
        assertEquals(ReasonCode.LOAD_FAILED, e.reason());
        assertTrue(e.getMessage().startsWith("ONNX Runtime cannot load the model"), e.getMessage());
        byte[] whole = TinyOnnx.linear();
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length / 2);
        assertEquals(ReasonCode.LOAD_FAILED, assertThrows(ModelException.class,
                () -> synthetic.load(write("truncated.onnx", truncated))).reason());
    }

    @Test
    void nonFiniteOutputFailsTheSmokeTest() throws Exception {
        try (LoadedModel m = synthetic.load(write("log.onnx", TinyOnnx.log()))) {
            ModelException e = assertThrows(ModelException.class, m::smokeTest);
            assertEquals(ReasonCode.SMOKE_TEST_FAILED, e.reason());
            assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
        }
    }

    @Test
    void aModelThatFailsAtRunTimeFailsSmokeAndInference() throws Exception {
        try (LoadedModel m = synthetic.load(write("reshape.onnx", TinyOnnx.failsAtRunTime()))) {
            assertEquals(ReasonCode.SMOKE_TEST_FAILED, assertThrows(ModelException.class, m::smokeTest).reason());
            assertThrows(Exception.class, m::infer);
        }
    }

    @Test
    void inferenceAfterCloseIsRefusedNotACrash() throws Exception {
        LoadedModel m = synthetic.load(write("linear.onnx", TinyOnnx.linear()));
        m.close();
        m.close();
        assertThrows(IllegalStateException.class, m::infer);
    }

    /** The first input value of each of {@code n} observed inferences. */
    static float[] firstInputs(LoadedModel m, int n) throws Exception {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = m.inferObserved().inputs().get(0).floats()[0];
        }
        return out;
    }

    @Test
    void aSyntheticStreamDrawsFreshGaussianInputsWhereTheDefaultCyclesAFew() throws Exception {
        int n = 400;
        try (LoadedModel m = synthetic.load(write("linear.onnx", TinyOnnx.linear()))) {
            float[] cycled = firstInputs(m, n);
            assertEquals(4, java.util.stream.IntStream.range(0, n).mapToObj(i -> cycled[i]).distinct().count(),
                    "the default feed cycles four variants");
        }
        OrtModelRunner stream = OrtModelRunner.forInput(1, "synthetic-stream");
        float[] drawn;
        try (LoadedModel m = stream.load(write("linear.onnx", TinyOnnx.linear()))) {
            m.smokeTest();
            drawn = firstInputs(m, n);
        }
        assertEquals(n, java.util.stream.IntStream.range(0, n).mapToObj(i -> drawn[i]).distinct().count(),
                "every inference gets a fresh draw");
        double mean = 0;
        double sq = 0;
        for (float v : drawn) {
            mean += v / (double) n;
            sq += v * (double) v / n;
        }
        double sd = Math.sqrt(sq - mean * mean);
        // standard Gaussian: the mean of 400 draws is within 4 standard errors (0.2) of 0, the spread near 1
        assertTrue(Math.abs(mean) < 0.2 && sd > 0.85 && sd < 1.15, "mean " + mean + ", sd " + sd);
        try (LoadedModel m = stream.load(dir.resolve("linear.onnx"))) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(drawn, firstInputs(m, n),
                    "seeded by the model file: a restarted device draws the same stream");
        }
    }

    @Test
    void npzSamplesFeedTheModelAndAMismatchFallsBackToSynthetic() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        float[] x = new float[5 * 4];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.5f;
        }
        Npz.write(data.resolve("a.npz"), Map.of("X", NpyArray.ofFloats(x, 5, 4)));
        Npz.write(data.resolve("b.npz"), Map.of("X", NpyArray.ofFloats(new float[8], 2, 4)));
        NpzDataset ds = NpzDataset.load(data);
        assertEquals(7, ds.sampleCount());
        assertEquals(3.0f, ds.sample(1).get("X").toFloats()[2], 1e-6);
        assertEquals(0.0f, ds.sample(6).get("X").toFloats()[0], 1e-6, "second file after the first");
        assertEquals(ds.sample(0).get("X").toFloats()[3], ds.sample(7).get("X").toFloats()[3], "cycles");

        OrtModelRunner fromFiles = new OrtModelRunner(1, ds);
        try (LoadedModel m = fromFiles.load(write("linear.onnx", TinyOnnx.linear()))) {
            for (int i = 0; i < 10; i++) {
                m.infer();
            }
        }
        // The cast model wants an int64 'X': the float data does not fit, synthetic inputs are used instead.
        try (LoadedModel m = fromFiles.load(write("cast.onnx", TinyOnnx.castInt64()))) {
            m.infer();
        }
        assertNotNull(NpzFeed.forModel(OrtModelRunner.environment(), ds,
                Map.of()).feed(), "a model without inputs needs nothing from the files");
    }

    @Test
    void anInputFolderWithoutNpzFilesIsAClearError() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> OrtModelRunner.forInput(1, empty.toString()));
        assertTrue(e.getMessage().contains("contains no .npz files"), e.getMessage());
    }
}
