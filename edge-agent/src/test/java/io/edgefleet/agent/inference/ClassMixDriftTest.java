package io.edgefleet.agent.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.drift.DriftMonitor;
import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.protocol.drift.DriftReport;
import io.edgefleet.protocol.drift.DriftThresholds;
import io.edgefleet.protocol.drift.FeatureDrift;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Class-mix drift in the load generator: from a labelled {@code .npz}, the built-in loop draws samples by a skewed
 * class distribution while the faults ask for one; the output-distribution part of the drift score rises under it
 * and stays low without it.
 */
class ClassMixDriftTest {
    static final int K = 3;

    @TempDir
    Path dir;

    /** Faults whose class mix is switched on by the test. */
    static final class MixFault implements InferenceFaults {
        volatile ClassMix mix;

        @Override
        public ClassMix classMix() {
            return mix;
        }
    }

    /** 300 labelled samples, classes 0, 1, 2 in turn: noise with 4 added at the sample's class. */
    Path labelledFolder() throws Exception {
        int n = 300;
        Random r = new Random(5);
        float[] x = new float[n * K];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % K;
            for (int c = 0; c < K; c++) {
                x[i * K + c] = (float) (r.nextGaussian() * 0.5 + (c == labels[i] ? 4 : 0));
            }
        }
        Path data = Files.createDirectories(dir.resolve("data"));
        Npz.write(data.resolve("labelled.npz"), Map.of("X", NpyArray.ofFloats(x, n, K), NpzDataset.LABELS,
                NpyArray.ofLongs(labels, n)));
        return data;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Runs {@code n} observed inferences into the monitor; returns how many answered each class. */
    static int[] run(LoadedModel m, DriftMonitor monitor, int n) throws Exception {
        int[] counts = new int[K];
        for (int i = 0; i < n; i++) {
            Observation o = m.inferObserved();
            monitor.observe(o);
            counts[argmax(o.outputs().get(0).floats())]++;
        }
        return counts;
    }

    static double outputClassPsi(DriftReport r) {
        return r.features().stream().filter(f -> f.name().equals("output.class")).mapToDouble(FeatureDrift::psi)
                .findFirst().orElseThrow(() -> new AssertionError("no output.class feature in " + r));
    }

    @Test
    void aSkewedClassMixRaisesTheOutputClassDriftAndTheSameDataWithoutItStaysLow() throws Exception {
        MixFault fault = new MixFault();
        NpzDataset ds = NpzDataset.load(labelledFolder());
        Path model = Files.write(dir.resolve("scores.onnx"), TinyOnnx.scores(K));
        try (LoadedModel m = new OrtModelRunner(1, ds, fault).load(model)) {
            DriftMonitor monitor = new DriftMonitor(null, 300, 30, p -> { });
            int[] reference = run(m, monitor, 300);
            assertEquals("self", monitor.reference());
            assertArrayEquals(new int[] {100, 100, 100}, reference, "in file order the classes take turns");

            int[] plain = run(m, monitor, 300);
            assertArrayEquals(new int[] {100, 100, 100}, plain);
            DriftReport calm = monitor.cut();
            assertNotNull(calm);
            assertTrue(outputClassPsi(calm) < DriftThresholds.PSI_WARN, "without class-mix drift: " + calm);

            fault.mix = ClassMix.parse("0=0.8");
            int[] skewed = run(m, monitor, 300);
            assertTrue(skewed[0] > 210 && skewed[0] < 270, "about 80% class 0: " + java.util.Arrays.toString(skewed));
            assertTrue(skewed[1] > 10 && skewed[2] > 10, "the other classes share the rest: "
                    + java.util.Arrays.toString(skewed));
            DriftReport drifted = monitor.cut();
            assertNotNull(drifted);
            assertTrue(outputClassPsi(drifted) >= DriftThresholds.PSI_ALERT, "under class-mix drift: " + drifted);
            assertTrue(drifted.psi() >= DriftThresholds.PSI_ALERT, "the overall score follows: " + drifted);

            fault.mix = null;
            run(m, monitor, 300);
            DriftReport after = monitor.cut();
            assertTrue(outputClassPsi(after) < DriftThresholds.PSI_WARN, "back to the file order: " + after);
        }
    }

    @Test
    void withoutLabelsTheMixIsIgnoredAndTheFileOrderKept() throws Exception {
        Path data = Files.createDirectories(dir.resolve("unlabelled"));
        float[] x = new float[6 * K];
        for (int i = 0; i < 6; i++) {
            x[i * K + i % K] = 4;
        }
        Npz.write(data.resolve("a.npz"), Map.of("X", NpyArray.ofFloats(x, 6, K)));
        NpzDataset ds = NpzDataset.load(data);
        assertNull(ds.labels());
        MixFault fault = new MixFault();
        fault.mix = ClassMix.parse("0=1");
        try (LoadedModel m = new OrtModelRunner(1, ds, fault).load(Files.write(dir.resolve("s.onnx"), TinyOnnx.scores(K)))) {
            for (int i = 0; i < 6; i++) {
                assertEquals(i % K, argmax(m.inferObserved().outputs().get(0).floats()));
            }
        }
    }

    @Test
    void mixesParseAndSpreadTheRestOverTheUnlistedClasses() {
        double[] p = ClassMix.parse("0=0.7").probabilities(new long[] {0, 1, 2, 3});
        assertArrayEquals(new double[] {0.7, 0.1, 0.1, 0.1}, p, 1e-12);
        assertArrayEquals(new double[] {0.5, 0.5, 0}, ClassMix.parse(" 2 = 0 , 0=0.5").probabilities(new long[] {0, 1, 2}),
                1e-12);
        assertArrayEquals(new double[] {0.5, 0.5}, ClassMix.parse("7=0.6").probabilities(new long[] {0, 1}), 1e-12,
                "a class the data lacks gets nothing; the rest is normalised");
        assertEquals("0=0.7,3=0.2", ClassMix.parse("3=0.2,0=0.7").toString());
        for (String bad : new String[] {"", "0", "0=", "=0.5", "a=0.5", "0=x", "0=1.5", "0=-0.1", "-1=0.5", "0=0.6,1=0.6",
                "0=0.5,0=0.2"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClassMix.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("class mix: "), e.getMessage());
        }
    }
}
