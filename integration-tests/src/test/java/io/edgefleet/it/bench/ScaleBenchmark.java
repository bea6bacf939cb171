package io.edgefleet.it.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.it.Api;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.it.MosquittoBroker;
import io.edgefleet.it.Repo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fleet scale benchmark, one command (from the repository root, after the README's build command):
 * <pre>./mvnw -B -q -pl integration-tests -am -Pbench-scale process-test-classes</pre>
 * It starts the packaged server, the machine's Mosquitto (the shipped {@code deploy/mosquitto} config) and
 * PostgreSQL (when reachable) once, then for each run starts the device simulator as its own JVM
 * ({@code edgefleet-sim run}, N agents registered over REST, broker credentials synced from the server) and,
 * once every agent is connected (or the connect time limit passed), measures a steady period: connected
 * agents, telemetry windows stored per second (server counter), server RSS and CPU, simulator threads, RSS
 * and CPU, Mosquitto RSS and CPU. Runs: {@code bench.runs} as {@code client:agents} pairs, default
 * {@code paho:1000,hivemq:1000,hivemq:5000,hivemq:10000} (Paho and the event-loop client side by side at a
 * size both reach, then the event-loop client up to the goal).
 *
 * <p>Agents use 10 s telemetry windows and one inference every 10 s ({@code bench.inference-interval-ms});
 * they have no model deployed, so windows are empty of inferences but travel the whole ingest path (disk
 * buffer, QoS 1, server commit, cumulative ack). File descriptors: the simulator and the broker each hold
 * one socket per agent, so each process needs a limit above N (+ a few hundred); the limit is printed and a
 * run that cannot fit is skipped with the reason.
 */
public final class ScaleBenchmark {
    static final String CLASS = "scale-class";
    static final String RUNS = System.getProperty("bench.runs", "paho:1000,hivemq:1000,hivemq:5000,hivemq:10000");
    static final int STEADY_SECONDS = Integer.getInteger("bench.steady-seconds", 60);
    static final int CONNECT_SECONDS = Integer.getInteger("bench.connect-seconds", 300);
    static final int WINDOW_SECONDS = Integer.getInteger("bench.window-seconds", 10);
    static final long INFERENCE_MS = Long.getLong("bench.inference-interval-ms", 10_000);
    static final String SIM_JVM = System.getProperty("bench.sim-jvm", "-Xmx3g -Xss512k");
    private static final Pattern CONNECTED = Pattern.compile("agents connected (\\d+)/(\\d+)");
    private static final Pattern THREADS = Pattern.compile("\\| threads (\\d+)");
    private static final long TICKS = 100; // USER_HZ on Linux

    private ScaleBenchmark() {
    }

    record Result(String client, int agents, long connected, long reporting, double connectSeconds, double windowsPerSecond,
                  long serverRssKb, double serverCpu, long simThreads, long simRssKb, double simCpu,
                  long brokerRssKb, double brokerCpu, String note) {
    }

    public static void main(String[] args) throws Exception {
        long fdLimit = openFileLimit();
        List<Result> results = new ArrayList<>();
        // 8 ingest workers, not the default 2: at thousands of devices coming online the server's status path waits on
        // database round trips (a status and the online device's deployment look-up, several each), not on CPU; at
        // 5,000 agents with 2 workers it applied about 13 statuses/s at 14 % of a core while 20,000 messages queued.
        try (Fleet fleet = Fleet.start("scale", Map.of("edgefleet.mqtt.ingest-workers",
                System.getProperty("bench.ingest-workers", "8")))) {
            if (!fleet.broker().isMosquitto()) {
                throw new IllegalStateException("the scale benchmark needs the machine's Mosquitto (/usr/sbin/mosquitto)");
            }
            Api api = fleet.api();
            api.createDeviceClass(CLASS, 200.0);
            for (String run : RUNS.split(",")) {
                String[] p = run.trim().split(":");
                String client = p[0];
                int n = Integer.parseInt(p[1]);
                if (n + 500 > fdLimit) {
                    results.add(new Result(client, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "skipped: open-file limit " + fdLimit
                            + " < agents + 500 (raise it with ulimit -n)"));
                    continue;
                }
                results.add(run(fleet, api, client, n));
            }
        }
        System.out.println();
        System.out.println("edgefleet scale benchmark (" + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("java.version") + ", open-file limit " + fdLimit + ", window " + WINDOW_SECONDS
                + " s, inference every " + INFERENCE_MS + " ms, steady " + STEADY_SECONDS + " s, simulator " + SIM_JVM + ")");
        System.out.println(String.format(Locale.ROOT, "  %-7s %7s %9s %9s %8s %10s %10s %8s %8s %10s %8s %10s %8s  %s",
                "client", "agents", "connected", "reporting", "conn s", "windows/s", "srv RSS", "srv CPU", "sim thr", "sim RSS",
                "sim CPU", "mosq RSS", "mosq CPU", "note"));
        for (Result r : results) {
            System.out.println(String.format(Locale.ROOT,
                    "  %-7s %7d %9d %9d %8.0f %10.0f %7.0f MiB %7.0f%% %8d %6.0f MiB %7.0f%% %6.0f MiB %7.0f%%  %s",
                    r.client(), r.agents(), r.connected(), r.reporting(), r.connectSeconds(), r.windowsPerSecond(), r.serverRssKb() / 1024.0,
                    r.serverCpu() * 100, r.simThreads(), r.simRssKb() / 1024.0, r.simCpu() * 100, r.brokerRssKb() / 1024.0,
                    r.brokerCpu() * 100, r.note()));
        }
        System.out.println("  (CPU: share of one core over the steady period; windows/s: server telemetryWindowsStored over it;"
                + " expected at full connection: agents / " + WINDOW_SECONDS + " s; reporting: devices of the run with a"
                + " window stored in the database that ended in the steady period)");
        System.out.flush();
        System.exit(0);
    }

    static Result run(Fleet fleet, Api api, String client, int n) throws Exception {
        String prefix = client.charAt(0) + Integer.toString(n);
        Path data = Files.createTempDirectory("edgefleet-scale-" + prefix + "-");
        Path log = Repo.buildDir().resolve("scale-sim-" + prefix + ".log");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(SIM_JVM.trim().split("\\s+")));
        cmd.addAll(List.of("-cp", Files.readString(Repo.buildDir().resolve("test-classpath.txt")).trim(),
                "io.edgefleet.simulator.SimulatorMain", "run",
                "--server", api.baseUrl(), "--token", api.token(), "--class-id", CLASS, "--agents", Integer.toString(n),
                "--prefix", prefix, "--mqtt-url", ((MosquittoBroker) fleet.broker()).url(), "--mqtt-client", client,
                "--inference-interval-ms", Long.toString(INFERENCE_MS), "--telemetry-window", Integer.toString(WINDOW_SECONDS),
                "--report-seconds", "5", "--data-dir", data.toString()));
        Log.info("scale: " + client + " x " + n + " agents, simulator log " + log);
        Process sim = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long t0 = System.nanoTime();
        String note = "";
        try {
            // Agents register over REST and connect at once; the broker learns their credentials from the server's
            // rendered password file, synced here until all are registered (refused agents retry with their back-off).
            long lastSync = 0;
            long connected = 0;
            boolean allStarted = false;
            long deadline = t0 + TimeUnit.SECONDS.toNanos(CONNECT_SECONDS);
            while (System.nanoTime() < deadline) {
                if (!sim.isAlive()) {
                    throw new IllegalStateException("the simulator exited with " + sim.exitValue() + ":\n" + tail(log));
                }
                boolean startedNow = Files.readString(log).contains("started " + n + " agents");
                if (System.nanoTime() - lastSync > TimeUnit.SECONDS.toNanos(5) || (startedNow && !allStarted)) {
                    try {
                        fleet.broker().syncCredentials(api);
                    } catch (IllegalStateException e) {
                        // The files are installed; a broker too busy to log its reload in time (5,000 agents
                        // connecting at load average 35) reads them at the next sync's SIGHUP. Not a reason to
                        // end the run.
                        Log.info("scale: credential sync: " + e.getMessage().lines().findFirst().orElse("")
                                + "; retrying at the next sync");
                    }
                    lastSync = System.nanoTime();
                    allStarted = startedNow;
                }
                connected = lastConnected(log);
                if (allStarted && connected >= n) {
                    break;
                }
                Thread.sleep(1000);
            }
            double connectSeconds = (System.nanoTime() - t0) / 1e9;
            if (connected < n) {
                note = "not all connected within " + CONNECT_SECONDS + " s";
            }
            long serverPid = fleet.server().pid();
            long brokerPid = ((MosquittoBroker) fleet.broker()).pid();
            long stored0 = api.stats().path("telemetryWindowsStored").asLong();
            long s0 = cpuTicks(serverPid);
            long m0 = cpuTicks(sim.pid());
            long b0 = cpuTicks(brokerPid);
            long w0 = System.nanoTime();
            long steadyFrom = System.currentTimeMillis();
            Thread.sleep(TimeUnit.SECONDS.toMillis(STEADY_SECONDS));
            double wall = (System.nanoTime() - w0) / 1e9;
            JsonNode stats = api.stats();
            long stored = stats.path("telemetryWindowsStored").asLong() - stored0;
            Result r = new Result(client, n, lastConnected(log), reporting(fleet, prefix, steadyFrom), connectSeconds,
                    stored / wall,
                    statusKb(serverPid, "VmRSS:"), (cpuTicks(serverPid) - s0) / (double) TICKS / wall,
                    statusKb(sim.pid(), "Threads:"), statusKb(sim.pid(), "VmRSS:"), (cpuTicks(sim.pid()) - m0) / (double) TICKS / wall,
                    statusKb(brokerPid, "VmRSS:"), (cpuTicks(brokerPid) - b0) / (double) TICKS / wall, note);
            Log.info("scale: " + r + "; simulator's own thread count line: " + lastThreads(log) + "; stats " + stats);
            return r;
        } finally {
            sim.destroy(); // the shutdown hook stops every agent (OFFLINE status, DISCONNECT)
            if (!sim.waitFor(180, TimeUnit.SECONDS)) {
                sim.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            MosquittoBroker.deleteTree(data);
        }
    }

    /** Devices of this run ({@code prefix-...}) with a window stored that ended at or after {@code fromMillis}; -1 without JDBC. */
    static long reporting(Fleet fleet, String prefix, long fromMillis) throws java.sql.SQLException {
        java.util.Optional<java.sql.Connection> c = fleet.database().connect();
        if (c.isEmpty()) {
            return -1;
        }
        try (java.sql.Connection conn = c.get(); java.sql.PreparedStatement st = conn.prepareStatement(
                "SELECT COUNT(DISTINCT device_id) FROM telemetry_window WHERE window_end >= ? AND device_id LIKE ?")) {
            st.setLong(1, fromMillis);
            st.setString(2, prefix + "-%");
            try (java.sql.ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static long lastConnected(Path log) throws IOException {
        long last = 0;
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            Matcher m = CONNECTED.matcher(line);
            if (m.find()) {
                last = Long.parseLong(m.group(1));
            }
        }
        return last;
    }

    static String lastThreads(Path log) throws IOException {
        String last = "n/a";
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            Matcher m = THREADS.matcher(line);
            if (m.find()) {
                last = m.group(1);
            }
        }
        return last;
    }

    /** utime + stime of a process, in clock ticks. */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    static long statusKb(long pid, String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        }
        return -1;
    }

    static long openFileLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                return Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0]);
            }
        }
        return -1;
    }

    static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    }
}
