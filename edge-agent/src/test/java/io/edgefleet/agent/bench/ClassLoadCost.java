package io.edgefleet.agent.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the classes an agent loads cost, package group by package group (docs/serving.md, "Memory and start-up",
 * session 11). Reads a class-load log of a running agent ({@code -Xlog:class+load=info:file=FILE}), then loads and
 * initializes the named classes whose names start with each given prefix, in the order given, and prints after each
 * group the metaspace used and the VmRSS it added. A group's figure is its marginal cost on top of the groups before
 * it, so list what would stay first and what a change would drop last. Hidden classes (lambdas, method-handle forms)
 * cannot be loaded by name and are left out. Run it in its own JVM with the flags under study, e.g.
 * <pre>MALLOC_ARENA_MAX=2 java -Xms32m -Xmx128m -Xmn4m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
 *   -cp edge-agent/target/test-classes:edge-agent/target/edge-agent-0.1.0-SNAPSHOT-all.jar \
 *   io.edgefleet.agent.bench.ClassLoadCost agent-classes.txt java. sun. jdk. com.sun. org.HdrHistogram \
 *   org.eclipse.paho com.fasterxml.jackson.core picocli com.fasterxml.jackson.annotation com.fasterxml.jackson.databind io.edgefleet</pre>
 */
public final class ClassLoadCost {
    /** A line of {@code -Xlog:class+load}: {@code [...] name source: where}. */
    private static final Pattern LOADED = Pattern.compile("\\]\\s(\\S+) source: ");

    private ClassLoadCost() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ClassLoadCost CLASS_LOAD_LOG PREFIX...");
            System.exit(2);
        }
        List<String> names = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            Matcher m = LOADED.matcher(line);
            if (m.find() && !m.group(1).contains("/") && !m.group(1).contains("$$Lambda")) {
                names.add(m.group(1));
            }
        }
        System.gc();
        long meta = metaspaceKb();
        long rss = rssKb();
        System.out.printf(Locale.ROOT, "%-36s %7s %14s %12s%n", "group (marginal)", "classes", "metaspace KiB", "VmRSS KiB");
        System.out.printf(Locale.ROOT, "%-36s %7d %14d %12d%n", "(before loading)", 0, meta, rss);
        for (int g = 1; g < args.length; g++) {
            int loaded = 0;
            int failed = 0;
            for (String name : names) {
                if (name.startsWith(args[g])) {
                    try {
                        Class.forName(name, true, ClassLoadCost.class.getClassLoader());
                        loaded++;
                    } catch (Throwable e) {
                        failed++;
                    }
                }
            }
            System.gc();
            long m = metaspaceKb();
            long r = rssKb();
            System.out.printf(Locale.ROOT, "%-36s %7d %+14d %+12d%s%n", args[g], loaded, m - meta, r - rss,
                    failed == 0 ? "" : "  (" + failed + " could not be loaded)");
            meta = m;
            rss = r;
        }
    }

    /** Own reader rather than {@link ServingFootprint#rssKb}: that class would load classes of its own first. */
    private static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static long metaspaceKb() {
        long used = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getName().equals("Metaspace")) {
                used += pool.getUsage().getUsed();
            }
        }
        return used / 1024;
    }
}
