package io.edgefleet.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The diagnostics a timing-sensitive scenario logs must name what was busy, or they explain nothing. */
class CpuSamplerTest {

    @Test
    void aThreadThatBurnsCpuIsNamedAmongThisJvmsBusiestAndTheMachineReadsBusy() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/task")), "no /proc: the sampler has nothing to read here");
        CountDownLatch stop = new CountDownLatch(1);
        Thread burner = new Thread(() -> {
            long x = 0;
            while (stop.getCount() > 0) {
                x += System.nanoTime() % 7;
            }
            if (x == 42) {
                System.out.println(x);
            }
        }, "burner-for-test");
        String report;
        try (CpuSampler sampler = CpuSampler.start(200)) {
            burner.start();
            Thread.sleep(1500);
            stop.countDown();
            burner.join();
            report = sampler.report();
        }
        // several samples; the burner (one full core) among this JVM's busiest in at least one; /proc shows
        // thread names cut at 15 characters
        assertTrue(report.lines().filter(l -> l.contains(" busy ")).count() >= 3, report);
        assertTrue(report.lines().anyMatch(l -> l.contains("this JVM: ") && l.contains("burner-for-test#")), report);
        assertTrue(report.contains("highest machine busy"), report);
    }

    @Test
    void aProcessThatRenamesItselfIsChargedOnlyWhatItUsedInTheInterval() {
        // a kernel worker that was "-writeback" and is "-events_unbound" now used 2 ticks, not its 100,002 since boot
        // (session 14's first reports charged such a worker 178 % of a core in every second)
        var before = java.util.Map.of("34", new CpuSampler.Usage("kworker/u8:1-writeback(34)", 100_000),
                "7", new CpuSampler.Usage("java(7)", 500));
        var after = java.util.Map.of("34", new CpuSampler.Usage("kworker/u8:1-events_unbound(34)", 100_002),
                "7", new CpuSampler.Usage("java(7)", 560));
        assertEquals("java(7) 60%, kworker/u8:1-events_unbound(34) 2%", CpuSampler.top(before, after, 1.0));
    }

    @Test
    void theThreadCensusFoldsNumbersSoAPoolCountsAsOneGroup() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        Thread[] pool = new Thread[3];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = new Thread(() -> {
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "census-pool-" + (i + 7));
            pool[i].start();
        }
        try {
            String census = CpuSampler.threadCensus();
            assertTrue(census.contains("census-pool-# x3;"), census);
        } finally {
            hold.countDown();
            for (Thread t : pool) {
                t.join();
            }
        }
    }
}
