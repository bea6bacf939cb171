package io.edgefleet.it;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where this machine's CPU went, second by second, while a timing-sensitive scenario runs: the machine's busy, iowait
 * and steal shares (from {@code /proc/stat}), the processes that used most of it, and this test JVM's busiest threads
 * (the in-process agents among them). A scenario that judges measured latency starts one over the part it judges and
 * logs {@link #report()} when the judgement fails, so a slow window can be told apart: the whole machine busy (another
 * process, or the hypervisor's steal), this JVM busy (a thread that should have stopped), or neither (the code is slow).
 * Linux only; elsewhere {@link #start} returns a sampler that reports that it has nothing.
 */
public final class CpuSampler implements AutoCloseable {
    /** Clock ticks per second of /proc's CPU times: USER_HZ, 100 on every Linux this project runs on. */
    static final double TICKS_PER_SECOND = 100;
    static final int TOP = 4;

    private final Thread thread;
    private final List<String> lines = new ArrayList<>();
    private volatile boolean stopped;
    private double maxBusy;
    private double maxSteal;

    private CpuSampler(long periodMs) {
        boolean linux = Files.isReadable(Path.of("/proc/stat"));
        thread = new Thread(() -> run(periodMs), "cpu-sampler");
        thread.setDaemon(true);
        if (linux) {
            thread.start();
        } else {
            lines.add("no /proc/stat: nothing sampled");
        }
    }

    public static CpuSampler start(long periodMs) {
        return new CpuSampler(periodMs);
    }

    /**
     * This JVM's live threads counted by name with digits folded ("agent-7" and "agent-8" are "agent-#"), largest groups
     * first: what earlier scenarios in the same JVM left running.
     */
    public static String threadCensus() {
        Map<String, Integer> count = new java.util.TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            count.merge(t.getName().replaceAll("\\d+", "#"), 1, Integer::sum);
        }
        List<Map.Entry<String, Integer>> groups = new ArrayList<>(count.entrySet());
        groups.sort((a, b) -> Integer.compare(b.getValue(), a.getValue()));
        int total = groups.stream().mapToInt(Map.Entry::getValue).sum();
        StringBuilder b = new StringBuilder().append(total).append(" threads:");
        for (var g : groups) {
            b.append(' ').append(g.getKey()).append(" x").append(g.getValue()).append(';');
        }
        return b.toString();
    }

    /** One line per sample, oldest first, and a summary line. */
    public synchronized String report() {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "%d samples of CPU (100%% = one core): highest machine busy %.0f%%, highest steal %.0f%%%n",
                lines.size(), maxBusy, maxSteal));
        lines.forEach(l -> b.append(l).append('\n'));
        return b.toString();
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run(long periodMs) {
        long[] machine = machineTicks();
        Map<String, Usage> procs = ticks(Path.of("/proc"), true);
        Map<String, Usage> threads = ticks(Path.of("/proc/self/task"), false);
        long t0 = System.nanoTime();
        while (!stopped) {
            try {
                Thread.sleep(periodMs);
            } catch (InterruptedException e) {
                return;
            }
            long t1 = System.nanoTime();
            double seconds = (t1 - t0) / 1e9;
            long[] m = machineTicks();
            Map<String, Usage> p = ticks(Path.of("/proc"), true);
            Map<String, Usage> t = ticks(Path.of("/proc/self/task"), false);
            String line = line(seconds, machine, m, procs, p, threads, t);
            synchronized (this) {
                lines.add(line);
            }
            machine = m;
            procs = p;
            threads = t;
            t0 = t1;
        }
    }

    private String line(double seconds, long[] m0, long[] m1, Map<String, Usage> p0, Map<String, Usage> p1,
            Map<String, Usage> t0, Map<String, Usage> t1) {
        // /proc/stat cpu: user nice system idle iowait irq softirq steal
        double busy = 0;
        for (int i : new int[] {0, 1, 2, 5, 6}) {
            busy += m1[i] - m0[i];
        }
        double scale = 100 / (TICKS_PER_SECOND * seconds);
        busy *= scale;
        double iowait = (m1[4] - m0[4]) * scale;
        double steal = (m1[7] - m0[7]) * scale;
        synchronized (this) {
            maxBusy = Math.max(maxBusy, busy);
            maxSteal = Math.max(maxSteal, steal);
        }
        return String.format(Locale.ROOT, "%tT busy %3.0f%% iowait %2.0f%% steal %2.0f%% | %s | this JVM: %s",
                Instant.now().atZone(ZoneOffset.UTC), busy, iowait, steal, top(p0, p1, scale), top(t0, t1, scale));
    }

    /** One process's or thread's label ("comm(pid)" or "comm#tid") and CPU ticks so far. */
    record Usage(String label, long ticks) {
    }

    /**
     * The busiest of {@code after} over the interval, each by its id: a kernel worker renames itself as it picks up
     * other work ("kworker/u8:1-writeback", then "-events_unbound"), so a name is no key; its ticks before are its id's.
     */
    static String top(Map<String, Usage> before, Map<String, Usage> after, double scale) {
        List<Map.Entry<String, Long>> used = new ArrayList<>();
        for (var e : after.entrySet()) {
            Usage was = before.get(e.getKey());
            long d = e.getValue().ticks() - (was == null ? 0 : was.ticks());
            if (d > 0) {
                used.add(Map.entry(e.getValue().label(), d));
            }
        }
        used.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
        StringBuilder b = new StringBuilder();
        for (var e : used.subList(0, Math.min(TOP, used.size()))) {
            b.append(b.length() == 0 ? "" : ", ").append(e.getKey())
                    .append(String.format(Locale.ROOT, " %.0f%%", e.getValue() * scale));
        }
        return b.length() == 0 ? "-" : b.toString();
    }

    private static long[] machineTicks() {
        try {
            String first = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = first.trim().split("\\s+");
            long[] out = new long[8];
            for (int i = 0; i < 8 && i + 1 < f.length; i++) {
                out[i] = Long.parseLong(f[i + 1]);
            }
            return out;
        } catch (IOException | RuntimeException e) {
            return new long[8];
        }
    }

    /**
     * utime + stime of every process (or every thread of this one) by pid (tid), labelled "comm(pid)" ("comm#tid");
     * one that exits between the listing and the read is skipped.
     */
    private static Map<String, Usage> ticks(Path dir, boolean withPid) {
        Map<String, Usage> out = new HashMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> p.getFileName().toString()
                .chars().allMatch(Character::isDigit))) {
            for (Path p : ds) {
                try {
                    String s = Files.readString(p.resolve("stat"));
                    int open = s.indexOf('(');
                    int close = s.lastIndexOf(')');
                    String comm = s.substring(open + 1, close);
                    String[] f = s.substring(close + 2).split(" ");
                    // after "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based in proc(5))
                    long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    String id = p.getFileName().toString();
                    out.put(id, new Usage(withPid ? comm + "(" + id + ")" : comm + "#" + id, t));
                } catch (IOException | RuntimeException e) {
                    // gone, or not ours to read
                }
            }
        } catch (IOException e) {
            // no /proc
        }
        return out;
    }
}
