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
import java.util.Map;
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
 * <pre>./mvnw -B -q -pl integration-tests -am -Pbench-fleet process-test-classes</pre>
 * (add {@code -Dbench.devices=100 -Dbench.messages=200000} to change the load). It starts the same
 * server + broker + database as the integration tests and measures:
 * <ol>
 *   <li>telemetry ingest: {@code bench.devices} registered devices publish valid telemetry windows as fast
 *       as QoS 1 allows, with their own credentials, and wait for the server's acknowledgement after commit
 *       (see {@link #ingest});</li>
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
        try (Fleet fleet = Fleet.start("bench", Map.of("edgefleet.mqtt.ingest-workers",
                System.getProperty("bench.ingest-workers", "2")))) {
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

    /**
     * Telemetry ingest with acknowledgement after commit. Each bench device behaves like an agent: it publishes
     * its windows (QoS 1, a few in flight), carries {@code ackBase}, reads the server's cumulative {@link
     * TelemetryAck} on its ack topic, and at the end replays, with the same message ids, whatever the server has
     * not confirmed (the broker may have dropped it). The rate is windows committed to the database over the wall
     * time from the first publish to the last confirmation; the check is that the database holds exactly the
     * windows the devices saw confirmed, each once.
     */
    static List<String> ingest(Fleet fleet, Api api) throws Exception {
        String[] ids = new String[DEVICES];
        for (int i = 0; i < DEVICES; i++) {
            ids[i] = String.format(Locale.ROOT, "bench-%04d", i + 1);
        }
        List<Fleet.Device> devices = fleet.register(CLASS, ids);
        List<RawMqtt> clients = new ArrayList<>();
        for (Fleet.Device d : devices) {
            RawMqtt c = RawMqtt.connect(d.mqttUrl(), d.username(), d.password());
            c.subscribe(Topics.ack(d.id()), 0);
            clients.add(c);
        }
        JsonCodec codec = new JsonCodec();
        ModelRef model = new ModelRef("bench-model", 1, "0".repeat(64));
        int perDevice = Math.max(1, MESSAGES / DEVICES);
        long total = (long) perDevice * DEVICES;
        String[][] messageIds = new String[DEVICES][perDevice];
        long[] confirmed = new long[DEVICES];
        Arrays.fill(confirmed, -1);
        long storedBefore = api.stats().path("telemetryWindowsStored").asLong();
        Log.info("ingest: " + DEVICES + " devices x " + perDevice + " windows = " + total + " QoS 1 publishes via "
                + fleet.broker().description() + ", acknowledged by the server after commit");

        AtomicLong published = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        java.util.concurrent.atomic.AtomicReference<String> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(MAX_SECONDS);
        int threads = Math.min(8, DEVICES);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long startMs = System.currentTimeMillis();
        java.util.function.BiFunction<Integer, Integer, byte[]> window = (i, seq) -> {
            long start = startMs + seq * 1000L;
            TelemetryWindow w = new TelemetryWindow(Protocol.VERSION, messageIds[i][seq], start + 1000, ids[i], seq, start,
                    start + 1000, model, 20, 0, new LatencyStats(1.0, 2.0, 3.0, 4.0, 1.5), 6.0, null, 0, false,
                    Math.min(seq, confirmed(confirmed, i) + 1), null, null, null);
            return codec.encode(w);
        };
        for (int i = 0; i < DEVICES; i++) {
            for (int seq = 0; seq < perDevice; seq++) {
                messageIds[i][seq] = Protocol.newMessageId();
            }
        }
        long t0 = System.nanoTime();
        List<Future<?>> jobs = new ArrayList<>();
        for (int th = 0; th < threads; th++) {
            int first = th;
            jobs.add(pool.submit(() -> {
                // Each thread drives its share of the devices round-robin, with a few publishes in flight per client.
                java.util.Map<Integer, BlockingQueue<IMqttToken>> inflightPerClient = new java.util.HashMap<>();
                for (int seq = 0; seq < perDevice && System.nanoTime() < deadline; seq++) {
                    for (int i = first; i < DEVICES; i += threads) {
                        BlockingQueue<IMqttToken> inflight =
                                inflightPerClient.computeIfAbsent(i, k -> new ArrayBlockingQueue<>(INFLIGHT_PER_CLIENT));
                        try {
                            if (inflight.remainingCapacity() == 0) {
                                awaitAck(inflight.take(), published, failed, firstFailure);
                            }
                            inflight.add(clients.get(i).publishAsync(Topics.telemetry(ids[i]), window.apply(i, seq), 1));
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

        // Wait for the server's confirmations; replay what stays unconfirmed for 10 s, as an agent does.
        long lastConfirmAt = System.nanoTime();
        long lastReplayAt = System.nanoTime();
        long replayed = 0;
        while (System.nanoTime() < deadline) {
            boolean progress = readAcks(clients, codec, ids, confirmed);
            if (progress) {
                lastConfirmAt = System.nanoTime();
            }
            long unconfirmed = 0;
            for (int i = 0; i < DEVICES; i++) {
                unconfirmed += perDevice - 1 - confirmed(confirmed, i);
            }
            if (unconfirmed == 0) {
                break;
            }
            if (System.nanoTime() - Math.max(lastConfirmAt, lastReplayAt) > TimeUnit.SECONDS.toNanos(10)) {
                for (int i = 0; i < DEVICES; i++) {
                    for (long seq = confirmed(confirmed, i) + 1; seq < perDevice; seq++) {
                        clients.get(i).publish(Topics.telemetry(ids[i]), window.apply(i, (int) seq), 1, false);
                        replayed++;
                    }
                }
                lastReplayAt = System.nanoTime();
            }
            Thread.sleep(20);
        }
        double ingestSeconds = (lastConfirmAt - t0) / 1e9;
        clients.forEach(RawMqtt::close);
        long confirmedTotal = 0;
        for (int i = 0; i < DEVICES; i++) {
            confirmedTotal += confirmed(confirmed, i) + 1;
        }
        long storedCounter = api.stats().path("telemetryWindowsStored").asLong() - storedBefore;
        long[] db = countStored(fleet);
        JsonNode stats = api.stats();
        Log.info("ingest stats: " + stats);
        if (firstFailure.get() != null) {
            Log.info("first publish failure: " + firstFailure.get());
        }

        List<String> rows = new ArrayList<>();
        rows.add("");
        rows.add("Telemetry ingest, ack after commit (" + DEVICES + " devices, QoS 1, " + fleet.broker().description().split(" \\(")[0]
                + ", " + fleet.database().description().split(" \\(")[0] + ")");
        rows.add(String.format(Locale.ROOT, "  %-52s %12s", "metric", "value"));
        rows.add(String.format(Locale.ROOT, "  %-52s %12d", "windows produced", total));
        rows.add(String.format(Locale.ROOT, "  %-52s %12d", "windows PUBACKed by the broker (first send)", published.get()));
        rows.add(String.format(Locale.ROOT, "  %-52s %12d", "publish failures (first send)", failed.get()));
        rows.add(String.format(Locale.ROOT, "  %-52s %12d", "windows replayed (unconfirmed after 10 s)", replayed));
        rows.add(String.format(Locale.ROOT, "  %-52s %12d", "windows confirmed by the server (cumulative ack)", confirmedTotal));
        rows.add(String.format(Locale.ROOT, "  %-52s %12s", "windows stored: server counter / database rows",
                storedCounter + " / " + (db == null ? "n/a" : Long.toString(db[0]))));
        rows.add(String.format(Locale.ROOT, "  %-52s %12s", "database: distinct (device, seq)", db == null ? "n/a" : Long.toString(db[1])));
        boolean exact = db == null ? storedCounter == confirmedTotal : db[0] == confirmedTotal && db[1] == confirmedTotal;
        rows.add(String.format(Locale.ROOT, "  %-52s %12s", "stored == confirmed, each once", exact ? "yes" : "NO"));
        rows.add(String.format(Locale.ROOT, "  %-52s %12.0f", "publish rate (msg/s, first send)", published.get() / publishSeconds));
        rows.add(String.format(Locale.ROOT, "  %-52s %12.0f", "stored + confirmed windows / wall s", confirmedTotal / ingestSeconds));
        rows.add(String.format(Locale.ROOT, "  %-52s %12.1f", "wall time, first publish to last confirmation (s)", ingestSeconds));
        rows.add(String.format(Locale.ROOT, "  %-52s %12s", "duplicates / left unacked / backpressure wait ms",
                stats.path("duplicatesDropped").asLong() + " / " + stats.path("leftUnacked").asLong() + " / "
                        + stats.path("backpressureWaitMs").asLong()));
        return rows;
    }

    private static long confirmed(long[] confirmed, int i) {
        synchronized (confirmed) {
            return confirmed[i];
        }
    }

    /** Applies every ack that arrived; true when a watermark moved. */
    private static boolean readAcks(List<RawMqtt> clients, JsonCodec codec, String[] ids, long[] confirmed) {
        boolean progress = false;
        for (int i = 0; i < clients.size(); i++) {
            for (RawMqtt.Received r : clients.get(i).drain()) {
                io.edgefleet.protocol.TelemetryAck ack = codec.decode(r.payload(), io.edgefleet.protocol.TelemetryAck.class);
                synchronized (confirmed) {
                    if (ids[i].equals(ack.deviceId()) && ack.seq() > confirmed[i]) {
                        confirmed[i] = ack.seq();
                        progress = true;
                    }
                }
            }
        }
        return progress;
    }

    /** Rows and distinct (device, seq) of the bench devices in the database, or null without PostgreSQL. */
    private static long[] countStored(Fleet fleet) throws java.sql.SQLException {
        java.util.Optional<java.sql.Connection> c = fleet.database().connect();
        if (c.isEmpty()) {
            return null;
        }
        try (java.sql.Connection conn = c.get(); java.sql.Statement st = conn.createStatement();
             java.sql.ResultSet r = st.executeQuery("SELECT COUNT(*), COUNT(DISTINCT (device_id, seq)) FROM telemetry_window"
                     + " WHERE device_id LIKE 'bench-%'")) {
            r.next();
            return new long[] {r.getLong(1), r.getLong(2)};
        }
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
            body.set("policy", Api.allAtOnce());
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
