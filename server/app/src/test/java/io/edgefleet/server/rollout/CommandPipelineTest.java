package io.edgefleet.server.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.Command;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The dispatcher against a fake broker that acknowledges late and refuses some publishes. */
class CommandPipelineTest {

    /** Acknowledges after 2 ms; fails every third publish of a device until its third attempt; counts what is in flight. */
    static final class FlakyBroker implements CommandPipeline.Publisher {
        final ScheduledExecutorService acks = Executors.newScheduledThreadPool(4);
        final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
        final Map<String, Long> delivered = new ConcurrentHashMap<>();
        final Map<String, List<Long>> attemptTimes = new ConcurrentHashMap<>();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();

        @Override
        public CompletableFuture<Void> publish(String deviceId, Command command) {
            int n = attempts.computeIfAbsent(deviceId, k -> new AtomicInteger()).incrementAndGet();
            attemptTimes.computeIfAbsent(deviceId, k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                    .add(System.nanoTime());
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            boolean flaky = Integer.parseInt(deviceId.substring(4)) % 3 == 0;
            if (flaky && n == 1) {
                // refused at once, like Paho's "too many publishes in progress"
                inFlight.decrementAndGet();
                refused.incrementAndGet();
                throw new IllegalStateException("Too many publishes in progress");
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            acks.schedule(() -> {
                inFlight.decrementAndGet();
                if (flaky && n == 2) {
                    refused.incrementAndGet();
                    f.completeExceptionally(new IllegalStateException("broker refused (0x97)"));
                } else {
                    delivered.merge(deviceId, 1L, Long::sum);
                    f.complete(null);
                }
            }, 2, TimeUnit.MILLISECONDS);
            return f;
        }
    }

    @Test
    void everyCommandIsDeliveredWithinTheWindowAndFailuresAreRetriedWithBackoff() throws Exception {
        FlakyBroker broker = new FlakyBroker();
        int devices = 300;
        try (CommandPipeline pipeline = new CommandPipeline(broker, new CommandPipeline.Options(8, 20, 200))) {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < devices; i++) {
                all.add(pipeline.submit("dev-" + i, Command.rollback("dep", "test")));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - t0) / 1e9;

            assertEquals(devices, broker.delivered.size(), "every device got its command");
            assertTrue(broker.delivered.values().stream().allMatch(n -> n == 1), "each exactly once");
            assertEquals(2 * (devices / 3), broker.refused.get(), "every third device was refused twice");
            assertTrue(broker.maxInFlight.get() <= 8, "never more than the window in flight: " + broker.maxInFlight.get());
            assertTrue(pipeline.maxInFlight() > 1, "publishes overlap: " + pipeline.maxInFlight());
            assertEquals(0, pipeline.inFlight());
            assertEquals(devices + 2L * (devices / 3), pipeline.attempts());
            // 300 commands with 2 ms acknowledgements one at a time would take >= 0.6 s plus retries
            assertTrue(seconds < 5, "took " + seconds + " s");
            // the retries waited for their backoff: at least 20 ms after the first failure, 40 ms after the second
            List<Long> times = broker.attemptTimes.get("dev-3");
            assertEquals(3, times.size());
            assertTrue((times.get(1) - times.get(0)) / 1e6 >= 19, "first backoff " + (times.get(1) - times.get(0)) / 1e6);
            assertTrue((times.get(2) - times.get(1)) / 1e6 >= 39, "second backoff " + (times.get(2) - times.get(1)) / 1e6);
        } finally {
            broker.acks.shutdownNow();
        }
    }

    @Test
    void backoffDoublesAndIsCapped() {
        try (CommandPipeline p = new CommandPipeline((d, c) -> CompletableFuture.completedFuture(null),
                new CommandPipeline.Options(1, 100, 1000))) {
            for (int i = 0; i < 20; i++) {
                long b1 = p.backoffMs(1);
                long b3 = p.backoffMs(3);
                long b10 = p.backoffMs(10);
                assertTrue(b1 >= 100 && b1 <= 125, "first " + b1);
                assertTrue(b3 >= 400 && b3 <= 500, "third " + b3);
                assertTrue(b10 >= 1000 && b10 <= 1250, "capped " + b10);
            }
        }
    }
}
