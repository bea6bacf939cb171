package io.edgefleet.agent.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Many serial executors on one small pool: each keeps order and never runs two of its tasks at once. */
class SerialExecutorTest {
    final ExecutorService pool = Executors.newFixedThreadPool(4);
    final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void tearDown() {
        pool.shutdownNow();
        timer.shutdownNow();
    }

    @Test
    void tasksOfOneExecutorRunInOrderAndNeverOverlapWhileOthersShareThePool() throws Exception {
        int executors = 50;
        int tasks = 200;
        List<List<Integer>> seen = new ArrayList<>();
        AtomicInteger overlaps = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(executors * tasks);
        for (int e = 0; e < executors; e++) {
            SerialExecutor s = new SerialExecutor("s" + e, pool, timer);
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            seen.add(order);
            AtomicInteger running = new AtomicInteger();
            for (int t = 0; t < tasks; t++) {
                int n = t;
                s.execute(() -> {
                    if (running.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    order.add(n);
                    running.decrementAndGet();
                    done.countDown();
                });
            }
        }
        assertTrue(done.await(20, TimeUnit.SECONDS));
        assertEquals(0, overlaps.get(), "two tasks of one executor ran at once");
        for (List<Integer> order : seen) {
            for (int i = 0; i < tasks; i++) {
                assertEquals(i, order.get(i));
            }
        }
    }

    @Test
    void aThrowingTaskDoesNotStopTheNextOnes() throws Exception {
        SerialExecutor s = new SerialExecutor("s", pool, timer);
        CountDownLatch after = new CountDownLatch(1);
        s.execute(() -> {
            throw new IllegalStateException("boom");
        });
        s.execute(after::countDown);
        assertTrue(after.await(5, TimeUnit.SECONDS));
    }

    @Test
    void delayedTasksRunAfterTheirDelayAndCancelledOnesNever() throws Exception {
        SerialExecutor s = new SerialExecutor("s", pool, timer);
        long start = System.nanoTime();
        ScheduledFuture<Long> f = s.schedule(() -> System.nanoTime() - start, 100, TimeUnit.MILLISECONDS);
        AtomicInteger cancelledRan = new AtomicInteger();
        ScheduledFuture<?> c = s.schedule(cancelledRan::incrementAndGet, 100, TimeUnit.MILLISECONDS);
        assertTrue(c.cancel(false));
        assertTrue(f.get(5, TimeUnit.SECONDS) >= TimeUnit.MILLISECONDS.toNanos(95));
        Thread.sleep(150);
        assertEquals(0, cancelledRan.get());
        assertTrue(c.isCancelled());
    }

    @Test
    void periodicTasksRepeatUntilCancelledAndStopAfterTheirFirstFailure() throws Exception {
        SerialExecutor s = new SerialExecutor("s", pool, timer);
        AtomicInteger rate = new AtomicInteger();
        AtomicInteger delay = new AtomicInteger();
        AtomicInteger failing = new AtomicInteger();
        ScheduledFuture<?> r = s.scheduleAtFixedRate(rate::incrementAndGet, 0, 10, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> d = s.scheduleWithFixedDelay(delay::incrementAndGet, 0, 10, TimeUnit.MILLISECONDS);
        s.scheduleAtFixedRate(() -> {
            failing.incrementAndGet();
            throw new IllegalStateException("boom");
        }, 0, 10, TimeUnit.MILLISECONDS);
        // Polled rather than slept: on a loaded machine a 10 ms period may slip by a lot.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while ((rate.get() < 5 || delay.get() < 5) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(rate.get() >= 5, "fixed rate ran " + rate.get());
        assertTrue(delay.get() >= 5, "fixed delay ran " + delay.get());
        assertEquals(1, failing.get(), "a periodic task that throws is not run again");
        r.cancel(false);
        d.cancel(false);
        Thread.sleep(50);
        int r1 = rate.get();
        int d1 = delay.get();
        Thread.sleep(100);
        assertEquals(r1, rate.get());
        assertEquals(d1, delay.get());
    }

    @Test
    void shutdownDrainsWhatIsQueuedCancelsTimersAndRefusesNewWork() throws Exception {
        SerialExecutor s = new SerialExecutor("s", pool, timer);
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger ran = new AtomicInteger();
        s.execute(() -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ran.incrementAndGet();
        });
        s.execute(ran::incrementAndGet);
        AtomicInteger timed = new AtomicInteger();
        s.schedule(timed::incrementAndGet, 50, TimeUnit.MILLISECONDS);
        s.shutdown();
        assertThrows(RejectedExecutionException.class, () -> s.execute(ran::incrementAndGet));
        assertFalse(s.awaitTermination(50, TimeUnit.MILLISECONDS), "still running the first task");
        gate.countDown();
        assertTrue(s.awaitTermination(5, TimeUnit.SECONDS));
        assertEquals(2, ran.get(), "queued work finishes after shutdown");
        Thread.sleep(100);
        assertEquals(0, timed.get(), "a delayed task that had not fired is cancelled by shutdown");
        assertTrue(s.isTerminated());
    }
}
