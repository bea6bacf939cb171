package io.edgefleet.agent.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.testing.FakeRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InferenceLoopTest {
    @TempDir
    Path dir;

    final FakeRunner runner = new FakeRunner();
    final List<Long> latencies = new CopyOnWriteArrayList<>();
    final AtomicLong errors = new AtomicLong();
    final InferenceListener listener = new InferenceListener() {
        @Override
        public void onSuccess(long latencyNanos) {
            latencies.add(latencyNanos);
        }

        @Override
        public void onError(Throwable error) {
            errors.incrementAndGet();
        }
    };

    FakeRunner.FakeModel load(String name, Map<String, String> spec) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, FakeRunner.model(name, spec, 10));
        return (FakeRunner.FakeModel) runner.load(p);
    }

    static void waitFor(java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5000;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("condition not reached in 5 s");
            }
            Thread.sleep(5);
        }
    }

    @Test
    void runsAtTheIntervalAndNothingWithoutAModel() throws Exception {
        try (InferenceLoop loop = new InferenceLoop("t", listener, 1.0, 10)) {
            loop.start();
            Thread.sleep(60);
            assertTrue(latencies.isEmpty(), "no model, no inferences");
            FakeRunner.FakeModel m = load("m", Map.of());
            loop.swap(m, null);
            Thread.sleep(300);
            long n = m.inferences.get();
            assertTrue(n >= 10 && n <= 40, "about 30 inferences at 10 ms, got " + n);
        }
    }

    @Test
    void swappingClosesTheOldModelAndNeverRunsIt() throws Exception {
        try (InferenceLoop loop = new InferenceLoop("t", listener, 1.0, 1)) {
            loop.start();
            FakeRunner.FakeModel first = load("a", Map.of("latencyMs", "2"));
            FakeRunner.FakeModel second = load("b", Map.of());
            loop.swap(first, null);
            waitFor(() -> first.inferences.get() > 5);
            boolean[] ranWhileIdle = new boolean[1];
            loop.swap(second, () -> ranWhileIdle[0] = true);
            assertTrue(first.closed);
            assertTrue(ranWhileIdle[0]);
            long frozen = first.inferences.get();
            waitFor(() -> second.inferences.get() > 5);
            assertEquals(frozen, first.inferences.get());
            assertEquals(0, errors.get(), "no inference ever hit a closed model");
        }
    }

    @Test
    void speedFactorStretchesTheMeasuredLatency() throws Exception {
        try (InferenceLoop loop = new InferenceLoop("t", listener, 3.0, 1)) {
            loop.start();
            loop.swap(load("slow", Map.of("latencyMs", "10")), null);
            waitFor(() -> latencies.size() >= 3);
        }
        for (long l : latencies) {
            assertTrue(l >= 29_000_000L, "10 ms x 3 should be at least 30 ms, was " + l / 1e6);
        }
    }

    @Test
    void failingInferencesAreCountedAndTheLoopGoesOn() throws Exception {
        try (InferenceLoop loop = new InferenceLoop("t", listener, 1.0, 1)) {
            loop.start();
            loop.swap(load("flaky", Map.of("errorEvery", "2")), null);
            waitFor(() -> errors.get() >= 5 && latencies.size() >= 5);
        }
    }

    @Test
    void closeStopsTheThreadAndClosesTheModel() throws Exception {
        FakeRunner.FakeModel m = load("m", Map.of());
        InferenceLoop loop = new InferenceLoop("t", listener, 1.0, 5);
        loop.start();
        loop.swap(m, null);
        loop.close();
        assertTrue(m.closed);
        assertFalse(loop.hasModel());
        long n = m.inferences.get();
        Thread.sleep(50);
        assertEquals(n, m.inferences.get());
    }

    @Test
    void latencyIsTheModelsOwnRunNotPreparingItsInput() throws Exception {
        FakeRunner.FakeModel fake = load("m", Map.of());
        // A model whose every inference spends 20 ms outside the model (a feed drawing its input) and 2 ms in it.
        LoadedModel slowFeed = new LoadedModel() {
            @Override
            public void infer() throws Exception {
                fake.infer();
            }

            @Override
            public Observation inferTimed(java.util.function.LongConsumer modelNanos) throws Exception {
                Thread.sleep(20);
                fake.infer();
                modelNanos.accept(2_000_000L);
                return null;
            }

            @Override
            public void smokeTest() throws ModelException {
                fake.smokeTest();
            }

            @Override
            public List<TensorSpec> inputs() {
                return fake.inputs();
            }

            @Override
            public List<TensorSpec> outputs() {
                return fake.outputs();
            }

            @Override
            public Map<String, Tensor> run(Map<String, Tensor> inputs, java.util.Collection<String> names) throws Exception {
                return fake.run(inputs, names);
            }

            @Override
            public void close() {
                fake.close();
            }
        };
        try (InferenceLoop loop = new InferenceLoop("t", listener, 3.0, 1)) {
            loop.start();
            loop.swap(slowFeed, null);
            waitFor(() -> latencies.size() >= 3);
        }
        for (long l : latencies) {
            assertEquals(6_000_000L, l, "2 ms in the model x speed factor 3; the 20 ms outside it are not latency");
        }
    }
}
