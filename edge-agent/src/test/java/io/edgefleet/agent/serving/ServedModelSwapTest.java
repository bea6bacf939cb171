package io.edgefleet.agent.serving;

import static io.edgefleet.agent.serving.ServingFixtures.direct;
import static io.edgefleet.agent.serving.ServingFixtures.load;
import static io.edgefleet.agent.serving.ServingFixtures.ref;
import static io.edgefleet.agent.serving.ServingFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.inference.InferenceLoop;
import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.telemetry.WindowRecorder;
import io.edgefleet.agent.testing.FakeRunner;
import io.edgefleet.agent.testing.TinyOnnx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests during updates: each is answered by whichever model is active, none fails because of a swap,
 * and no model is closed while a request uses it (a closed ONNX Runtime session under a running request
 * would fail it, or worse).
 */
class ServedModelSwapTest {
    static final float[] X = {0.5f, -1.25f, 2f, 3.5f};
    static final long[] SHAPE = {1, 4};

    @TempDir
    Path dir;

    @Test
    void requestsFromSeveralThreadsWhileModelsSwapRepeatedlyNeverFail() throws Exception {
        Path a = write(dir, "a.onnx", TinyOnnx.linear(0f));
        Path b = write(dir, "b.onnx", TinyOnnx.linear(0.5f));
        float[] answerA = direct(a, "X", X, SHAPE, "Y");
        float[] answerB = direct(b, "X", X, SHAPE, "Y");
        assertFalse(Arrays.equals(answerA, answerB), "the two versions must answer differently");

        ServedModels models = new ServedModels();
        ServedModel slot = models.add(new ServedModel());
        WindowRecorder recorder = new WindowRecorder(0);
        InferenceService service = new InferenceService(models, recorder, 1.0);
        // The built-in loop shares the model, as in the agent.
        InferenceLoop loop = new InferenceLoop("test-loop", recorder, 1.0, 1);
        loop.start();
        List<LoadedModel> retired = new ArrayList<>();
        slot.swap(load(a), ref("m", 1), null);

        int threads = 4;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong answered = new AtomicLong();
        AtomicLong byA = new AtomicLong();
        AtomicLong byB = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch started = new CountDownLatch(threads);
        List<Future<?>> clients = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            clients.add(pool.submit(() -> {
                started.countDown();
                while (!stop.get()) {
                    try {
                        InferResponse r = service.infer("m", InferRequest.of(InferInput.fp32("X", SHAPE, X)));
                        float[] y = r.output("Y").floats();
                        boolean isA = Arrays.equals(y, answerA);
                        boolean isB = Arrays.equals(y, answerB);
                        if (!isA && !isB || isA != r.modelVersion().equals("1")) {
                            failures.add(new AssertionError("version " + r.modelVersion() + " answered " + Arrays.toString(y)));
                        }
                        (isA ? byA : byB).incrementAndGet();
                        answered.incrementAndGet();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            }));
        }
        started.await();
        int swaps = 60;
        long cuts = 0;
        for (int i = 0; i < swaps; i++) {
            boolean toB = i % 2 == 0;
            LoadedModel next = load(toB ? b : a);
            LoadedModel[] previous = new LoadedModel[1];
            slot.swap(next, ref("m", toB ? 2 : 1), () -> {
                previous[0] = loop.replace(next, null);
                recorder.cut(System.currentTimeMillis());
            });
            retired.add(previous[0]);
            cuts++;
            Thread.sleep(2);
        }
        stop.set(true);
        for (Future<?> f : clients) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        slot.swap(null, null, () -> loop.replace(null, null));
        loop.close();

        assertTrue(failures.isEmpty(), failures.size() + " requests failed, first: " + failures.peek());
        assertTrue(answered.get() > swaps, "requests ran during the swaps: " + answered.get());
        assertTrue(byA.get() > 0 && byB.get() > 0, "both versions answered: A " + byA.get() + ", B " + byB.get());
        assertEquals(swaps, cuts);
        assertEquals(0, recorder.cut(System.currentTimeMillis()).errors());
    }

    @Test
    void aSwapWaitsForTheRequestInFlightBeforeClosingItsModel() throws Exception {
        FakeRunner runner = new FakeRunner();
        Path slow = write(dir, "slow.fake", FakeRunner.model("slow", Map.of("latencyMs", "300"), 10));
        Path fast = write(dir, "fast.fake", FakeRunner.model("fast", 10));
        FakeRunner.FakeModel old = (FakeRunner.FakeModel) runner.load(slow);
        ServedModels models = new ServedModels();
        ServedModel slot = models.add(new ServedModel());
        ServingFixtures.Counting counts = new ServingFixtures.Counting();
        InferenceService service = new InferenceService(models, counts, 1.0);
        slot.swap(old, ref("m", 1), null);

        ExecutorService pool = Executors.newSingleThreadExecutor();
        Future<InferResponse> inFlight = pool.submit(() -> service.infer("m",
                InferRequest.of(InferInput.fp32("X", SHAPE, X))));
        while (old.inferences.get() == 0) {
            Thread.sleep(1);
        }
        long start = System.nanoTime();
        slot.swap(runner.load(fast), ref("m", 2), () -> assertFalse(old.closed, "closed under a running request"));
        long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        InferResponse r = inFlight.get(5, TimeUnit.SECONDS);
        assertEquals("1", r.modelVersion(), "the request in flight finishes on the model it started on");
        assertTrue(old.closed, "the old model is closed once the request let go of it");
        assertTrue(waitedMs >= 100, "the swap waited for the request (" + waitedMs + " ms)");
        assertEquals("2", service.infer("m", InferRequest.of(InferInput.fp32("X", SHAPE, X))).modelVersion());
        assertEquals(2, counts.successes.get());
        pool.shutdown();
    }

    @Test
    void aModelOfAnotherNameReplacesTheServedNameAndTheOldNameIs404() throws Exception {
        FakeRunner runner = new FakeRunner();
        ServedModels models = new ServedModels();
        ServedModel slot = models.add(new ServedModel());
        InferenceService service = new InferenceService(models, new ServingFixtures.Counting(), 1.0);
        slot.swap(runner.load(write(dir, "a.fake", FakeRunner.model("a", 10))), ref("digits", 1), null);
        assertTrue(service.isReady("digits"));
        slot.swap(runner.load(write(dir, "b.fake", FakeRunner.model("b", 10))), ref("resnet", 1), null);
        assertFalse(service.isReady("digits"));
        assertTrue(service.isReady("resnet"));
        assertEquals(List.of("resnet"), models.names());
        assertTrue(runner.loaded.get(0).closed);
    }
}
