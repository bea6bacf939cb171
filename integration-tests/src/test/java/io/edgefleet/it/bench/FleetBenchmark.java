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
    static final String AGENT_JVM_FLAGS = System.getProperty("bench.agent-jvm", "-Xmx128m -XX:+UseSerialGC");

    private FleetBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        List<String> table = new ArrayList<>();
        Map<String, String> server = new java.util.LinkedHashMap<>();
        server.put("edgefleet.mqtt.ingest-workers", System.getProperty("bench.ingest-workers", "2"));
        server.put("edgefleet.mqtt.ingest-batch-size", System.getProperty("bench.ingest-batch-size", "500"));
        try (Fleet fleet = Fleet.start("bench", server)) {
            Api api = fleet.api();
            api.createDeviceClass(CLASS, 200.0);
            table.addAll(ingest(fleet, api));
            // -Dbench.only=ingest: the ingest table alone (the agent-memory part deploys a model and waits)
            if (!"ingest".equals(System.getProperty("bench.only"))) {
                table.addAll(agentMemory(fleet, api));
            }
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

    /** Telemetry ingest with acknowledgement after commit: see {@link IngestLoad}. */
    static List<String> ingest(Fleet fleet, Api api) throws Exception {
        return new IngestLoad(fleet, api, DEVICES, MESSAGES, MAX_SECONDS).run(CLASS);
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
            Files.writeString(config, Fleet.agentProperties(d, dir.resolve("data"), Map.of(
                    "telemetryWindowSeconds", "2",
                    "inferenceIntervalMs", "50",
                    "intraOpThreads", "1",
                    // Two agents run at once: the inference API (on by default) must not compete for port 8000.
                    "servingPort", "0")), StandardCharsets.UTF_8);
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
