package io.edgefleet.it.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.engine.onnx.SampleModels;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.it.RawMqtt;
import io.edgefleet.it.Repo;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;

/**
 * Fleet benchmark, one command:
 * <pre>./mvnw -B -q -pl integration-tests -Pbench test-compile exec:java</pre>
 * (add {@code -Dbench.devices=100 -Dbench.messages=200000} to change the load). It starts the same
 * server + broker + database as the integration tests and measures:
 * <ol>
 *   <li>telemetry ingest: {@code bench.devices} registered devices publish valid telemetry windows as fast
 *       as QoS 1 allows, with their own credentials; the rate is the server's stored-window counter
 *       ({@code /api/v1/stats}) over the wall time from the first publish until the server stored the last;</li>
 *   <li>agent memory: VmRSS of a separate JVM running one {@code AgentMain}, idle without a model, next to
 *       the same JVM with a small model deployed and running inference, both at steady state.</li>
 * </ol>
 * Bounded in count and time; talks only to 127.0.0.1.
 */
public final class FleetBenchmark {
    static final String CLASS = "bench-class";
    static final int DEVICES = Integer.getInteger("bench.devices", 50);
    static final int MESSAGES = Integer.getInteger("bench.messages", 50_000);
    static final int MAX_SECONDS = Integer.getInteger("bench.max-seconds", 120);
    static final int STEADY_SECONDS = Integer.getInteger("bench.steady-seconds", 15);
    static final int INFLIGHT_PER_CLIENT = 8;
    static final String AGENT_JVM_FLAGS = System.getProperty("bench.agent-jvm", "-Xmx128m -XX:+UseSerialGC");

    private FleetBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        List<String> table = new ArrayList<>();
        try (Fleet fleet = Fleet.start("bench")) {
            Api api = fleet.api();
            api.createDeviceClass(CLASS, 200.0);
            table.addAll(ingest(fleet, api));
            table.addAll(agentMemory(fleet, api));
        }
        System.out.println();
        System.out.println("edgefleet fleet benchmark (" + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("java.version") + ")");
        table.forEach(System.out::println);
        System.out.flush();
        // exec:java keeps the Maven JVM: do not leave Paho/ORT threads behind.
        System.exit(0);
    }

    // ---------------------------------------------------------------- telemetry ingest

    static List<String> ingest(Fleet fleet, Api api) throws Exception {
        String[] ids = new String[DEVICES];
        for (int i = 0; i < DEVICES; i++) {
            ids[i] = String.format(Locale.ROOT, "bench-%04d", i + 1);
        }
        List<Fleet.Device> devices = fleet.register(CLASS, ids);
        List<RawMqtt> clients = new ArrayList<>();
        for (Fleet.Device d : devices) {
            clients.add(RawMqtt.connect(d.mqttUrl(), d.username(), d.password()));
        }
        JsonCodec codec = new JsonCodec();
        ModelRef model = new ModelRef("bench-model", 1, "0".repeat(64));
        int perDevice = Math.max(1, MESSAGES / DEVICES);
        long total = (long) perDevice * DEVICES;
        long storedBefore = api.stats().path("telemetryWindowsStored").asLong();
        Log.info("ingest: " + DEVICES + " devices x " + perDevice + " windows = " + total + " QoS 1 publishes via "
                + fleet.broker().description());

        AtomicLong published = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        java.util.concurrent.atomic.AtomicReference<String> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(MAX_SECONDS);
        int threads = Math.min(8, DEVICES);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long t0 = System.nanoTime();
        List<Future<?>> jobs = new ArrayList<>();
        for (int th = 0; th < threads; th++) {
            int first = th;
            jobs.add(pool.submit(() -> {
                // Each thread drives its share of the devices round-robin, with a few publishes in flight per
                // client: below the broker's receive maximum (max_inflight_messages 20) and Paho's own window,
                // so Paho never refuses a publish for having too many in progress.
                java.util.Map<Integer, BlockingQueue<IMqttToken>> inflightPerClient = new java.util.HashMap<>();
                long now = System.currentTimeMillis();
                for (int seq = 0; seq < perDevice && System.nanoTime() < deadline; seq++) {
                    for (int i = first; i < DEVICES; i += threads) {
                        String id = devices.get(i).id();
                        long start = now + seq * 1000L;
                        TelemetryWindow w = new TelemetryWindow(Protocol.VERSION, Protocol.newMessageId(), start + 1000,
                                id, seq, start, start + 1000, model, 20, 0, new LatencyStats(1.0, 2.0, 3.0, 4.0, 1.5),
                                6.0, null, 0, false);
                        BlockingQueue<IMqttToken> inflight =
                                inflightPerClient.computeIfAbsent(i, k -> new ArrayBlockingQueue<>(INFLIGHT_PER_CLIENT));
                        try {
                            if (inflight.remainingCapacity() == 0) {
                                awaitAck(inflight.take(), published, failed, firstFailure);
                            }
                            inflight.add(clients.get(i).publishAsync(Topics.telemetry(id), codec.encode(w), 1));
                        } catch (Exception e) {
                            failed.incrementAndGet();
                            firstFailure.compareAndSet(null, e.toString());
                        }
                    }
                }
                for (BlockingQueue<IMqttToken> inflight : inflightPerClient.values()) {
                    for (IMqttToken t : inflight) {
                        awaitAck(t, published, failed, firstFailure);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : jobs) {
            f.get();
        }
        double publishSeconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();

        // Wait until the server has stored what it will store: everything, or the counter stops moving.
        long expected = storedBefore + published.get();
        long storedNow = api.stats().path("telemetryWindowsStored").asLong();
        long lastChange = System.nanoTime();
        while (storedNow < expected && System.nanoTime() - lastChange < TimeUnit.SECONDS.toNanos(10)
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
            long s = api.stats().path("telemetryWindowsStored").asLong();
            if (s != storedNow) {
                storedNow = s;
                lastChange = System.nanoTime();
            }
        }
        double ingestSeconds = (lastChange - t0) / 1e9;
        clients.forEach(RawMqtt::close);
        long stored = storedNow - storedBefore;
        JsonNode stats = api.stats();
        Log.info("ingest stats: " + stats);
        if (firstFailure.get() != null) {
            Log.info("first publish failure: " + firstFailure.get());
        }

        List<String> rows = new ArrayList<>();
        rows.add("");
        rows.add("Telemetry ingest (" + DEVICES + " devices, QoS 1, " + fleet.broker().description().split(" \\(")[0]
                + ", " + fleet.database().description().split(" \\(")[0] + ")");
        rows.add(String.format(Locale.ROOT, "  %-44s %12s", "metric", "value"));
        rows.add(String.format(Locale.ROOT, "  %-44s %12d", "windows published (PUBACKed by the broker)", published.get()));
        rows.add(String.format(Locale.ROOT, "  %-44s %12d", "publish failures", failed.get()));
        rows.add(String.format(Locale.ROOT, "  %-44s %12d", "windows stored by the server", stored));
        rows.add(String.format(Locale.ROOT, "  %-44s %12.0f", "publish rate (msg/s)", published.get() / publishSeconds));
        rows.add(String.format(Locale.ROOT, "  %-44s %12.0f", "ingest rate, stored windows / wall s", stored / ingestSeconds));
        rows.add(String.format(Locale.ROOT, "  %-44s %12.1f", "wall time, first publish to last stored (s)", ingestSeconds));
        rows.add(String.format(Locale.ROOT, "  %-44s %12s", "malformed / duplicates / overload dropped",
                stats.path("malformedDropped").path("telemetry").asLong() + " / " + stats.path("duplicatesDropped").asLong()
                        + " / " + stats.path("overloadDropped").asLong()));
        return rows;
    }

    /** Counts a publish as acknowledged once the broker's PUBACK says so (reason code below 0x80). */
    static void awaitAck(IMqttToken t, AtomicLong acked, AtomicLong failed,
                         java.util.concurrent.atomic.AtomicReference<String> firstFailure) {
        try {
            t.waitForCompletion(30_000);
            int[] codes = t.getReasonCodes();
            if (codes == null || codes.length == 0 || RawMqtt.accepted(codes[0])) {
                acked.incrementAndGet();
                return;
            }
            firstFailure.compareAndSet(null, "PUBACK reason code " + codes[0]);
        } catch (Exception e) {
            firstFailure.compareAndSet(null, e.toString());
        }
        failed.incrementAndGet();
    }

    // ---------------------------------------------------------------- agent memory

    static List<String> agentMemory(Fleet fleet, Api api) throws Exception {
        byte[] model = SampleModels.mlp(7).toBytes();
        long version = api.uploadModel("bench-mlp", model).path("version").asLong();
        List<Fleet.Device> devices = fleet.register(CLASS, "bench-rss-idle", "bench-rss-model");

        AgentProcess idle = AgentProcess.start(fleet, devices.get(0));
        AgentProcess loaded = AgentProcess.start(fleet, devices.get(1));
        try {
            for (AgentProcess p : List.of(idle, loaded)) {
                Await.until(Duration.ofSeconds(60), p.deviceId + " online",
                        () -> api.device(p.deviceId).path("online").asBoolean(), p::logTail);
            }
            ObjectNode body = Api.JSON.createObjectNode().put("model", "bench-mlp").put("version", version);
            body.putArray("deviceIds").add(loaded.deviceId);
            String dep = api.post("/api/v1/deployments", body).expect(202).path("id").asText();
            Await.until(Duration.ofSeconds(120), "bench-mlp committed on " + loaded.deviceId,
                    () -> "COMPLETED".equals(api.deployment(dep).path("status").asText()),
                    () -> api.deployment(dep) + "\n" + loaded.logTail());
            Log.info("agent memory: steady state for " + STEADY_SECONDS + " s");
            long[] idleKb = new long[STEADY_SECONDS];
            long[] loadedKb = new long[STEADY_SECONDS];
            for (int s = 0; s < STEADY_SECONDS; s++) {
                Thread.sleep(1000);
                idleKb[s] = idle.rssKb();
                loadedKb[s] = loaded.rssKb();
            }
            JsonNode tele = api.device(loaded.deviceId).path("lastTelemetry");

            List<String> rows = new ArrayList<>();
            rows.add("");
            rows.add("Agent memory: one AgentMain per JVM (" + AGENT_JVM_FLAGS + ", " + idle.launcher + ")");
            rows.add(String.format(Locale.ROOT, "  %-34s %14s %14s %12s", "agent", "VmRSS median", "VmRSS max", "VmHWM"));
            rows.add(row("connected, no model", idleKb, idle.hwmKb()));
            rows.add(row("SampleModels.mlp running inference", loadedKb, loaded.hwmKb()));
            rows.add(String.format(Locale.ROOT, "  %-34s %14.2f", "ratio model / idle (median RSS)",
                    (double) median(loadedKb) / median(idleKb)));
            rows.add(String.format(Locale.ROOT, "  %-34s %14s", "model size", model.length + " B"));
            rows.add(String.format(Locale.ROOT, "  %-34s %14s", "inference p95 (last window)",
                    tele.path("latency").path("p95").asText("n/a") + " ms"));
            return rows;
        } finally {
            idle.close();
            loaded.close();
        }
    }

    static String row(String what, long[] kb, long hwmKb) {
        long[] s = kb.clone();
        Arrays.sort(s);
        return String.format(Locale.ROOT, "  %-34s %10.1f MiB %10.1f MiB %8.1f MiB", what, median(kb) / 1024.0,
                s[s.length - 1] / 1024.0, hwmKb / 1024.0);
    }

    static long median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /** One AgentMain in its own JVM, so its RSS is the agent's alone. */
    static final class AgentProcess implements AutoCloseable {
        final String deviceId;
        final String launcher;
        final Process process;
        final Path dir;
        final Path log;

        private AgentProcess(String deviceId, String launcher, Process process, Path dir, Path log) {
            this.deviceId = deviceId;
            this.launcher = launcher;
            this.process = process;
            this.dir = dir;
            this.log = log;
        }

        static AgentProcess start(Fleet fleet, Fleet.Device d) throws IOException {
            Path dir = Files.createTempDirectory("edgefleet-bench-agent-");
            Path config = dir.resolve("agent.properties");
            Files.writeString(config, String.join("\n",
                    "deviceId=" + d.id(),
                    "classId=" + d.classId(),
                    "mqttUrl=" + d.mqttUrl(),
                    "username=" + d.username(),
                    "password=" + d.password(),
                    "serverKeys=" + String.join(",", d.serverKeys()),
                    "dataDir=" + dir.resolve("data"),
                    "telemetryWindowSeconds=2",
                    "inferenceIntervalMs=50",
                    "intraOpThreads=1",
                    // Two agents run at once: the inference API (on by default) must not compete for port 8000.
                    "servingPort=0",
                    ""), StandardCharsets.UTF_8);
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(Arrays.asList(AGENT_JVM_FLAGS.trim().split("\\s+")));
            String launcher;
            Path shaded = Repo.root().resolve("edge-agent/target/edge-agent-0.1.0-SNAPSHOT-all.jar");
            if (Files.isRegularFile(shaded)) {
                cmd.addAll(List.of("-jar", shaded.toString()));
                launcher = "shaded jar";
            } else {
                Path cpFile = Repo.buildDir().resolve("test-classpath.txt");
                if (!Files.isRegularFile(cpFile)) {
                    throw new IllegalStateException("neither " + shaded + " nor " + cpFile + " exists; run "
                            + "./mvnw -B -q -o -pl edge-agent install -DskipTests first");
                }
                cmd.addAll(List.of("-cp", Files.readString(cpFile).trim(), "io.edgefleet.agent.AgentMain"));
                launcher = "module classpath";
            }
            cmd.addAll(List.of("--config", config.toString()));
            Path log = Repo.buildDir().resolve("bench-agent-" + d.id() + ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            return new AgentProcess(d.id(), launcher, p, dir, log);
        }

        long rssKb() {
            return statusKb("VmRSS:");
        }

        long hwmKb() {
            return statusKb("VmHWM:");
        }

        private long statusKb(String key) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                    if (line.startsWith(key)) {
                        return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException("agent " + deviceId + " is gone: " + logTail(), e);
            }
            throw new IllegalStateException("no " + key + " in /proc/" + process.pid() + "/status");
        }

        String logTail() {
            try {
                List<String> lines = Files.readAllLines(log);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
            } catch (IOException e) {
                return "(no log)";
            }
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
