package io.edgefleet.it.bench;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.agent.inference.ModelException;
import io.edgefleet.agent.mqtt.HiveMqTransport;
import io.edgefleet.agent.mqtt.MqttSession;
import io.edgefleet.agent.mqtt.MqttTransport;
import io.edgefleet.agent.mqtt.PahoTransport;
import io.edgefleet.agent.store.ModelStore;
import io.edgefleet.agent.update.EventSink;
import io.edgefleet.agent.update.Timers;
import io.edgefleet.agent.update.UpdateManager;
import io.edgefleet.it.Log;
import io.edgefleet.it.MosquittoBroker;
import io.edgefleet.it.RawMqtt;
import io.edgefleet.it.TestBroker;
import io.edgefleet.it.TestModels;
import io.edgefleet.protocol.ArtifactChunker;
import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.ArtifactRef;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 artifact delivery benchmark, one command:
 * <pre>./mvnw -B -q -pl integration-tests -am test -Dtest=ArtifactDeliveryBenchmark -Dbench.artifacts=true -Dsurefire.failIfNoSpecifiedTests=false</pre>
 * ({@code -Dbench.agents=100,1000} sets the fleet sizes, run one after the other against one broker;
 * {@code -Dbench.client=paho} runs every agent on its own Paho client instead of the HiveMQ client's shared event loop).
 *
 * <p>A 5 MB ONNX model built in code, published retained in 64 KiB chunks with its signed manifest (as the
 * server's {@code ArtifactPublisher} does) to a Mosquitto started from {@code deploy/mosquitto/mosquitto.conf};
 * then N agent download paths in this JVM (each its own MQTT session, login, ACL and model store, the
 * agent's {@code UpdateManager}) get a DEPLOY at once. Measured per fleet size: time from the deploys to
 * the last whole-file-verified download, failures, chunk payload bytes the agents received and bytes the
 * broker sent ({@code $SYS/broker/bytes/sent}, which counts every packet: headers, topics, acks) over
 * artifact size × agents. Models are not loaded: ONNX Runtime sessions for 1,000 copies of a 5 MB model
 * do not fit this machine, so the measurement ends at VERIFIED (the DEPLOY then ends LOAD_FAILED by design).
 *
 * <p>The agents use the HiveMQ client on its shared Netty event loop by default, as the device simulator does: a
 * device runs one client on its own CPU, and 1,000 Paho clients in one JVM would add about 4,000 threads and Paho
 * 1.2.5's per-byte decoding of every payload (its {@code CountingInputStream} reads one byte per call, twice per
 * PUBLISH) to the two cores the broker also needs. The row also gives the CPU-seconds the broker and this JVM
 * spent during the deployment, per GB delivered (from /proc; the JVM's includes every agent's receive, hash and
 * write work), the split that says how far the harness is from the broker's own limit on this machine.
 */
class ArtifactDeliveryBenchmark {
    static final int CHUNK = 64 * 1024;
    static final int MAX_SECONDS = Integer.getInteger("bench.max-seconds", 300);
    static final MqttTransport.Kind CLIENT = MqttTransport.Kind.parse(System.getProperty("bench.client", "hivemq"));

    @Test
    void fiveMegabytesToManyAgents() throws Exception {
        assumeTrue(Boolean.getBoolean("bench.artifacts"), "run with -Dbench.artifacts=true");
        assumeTrue(TestBroker.isMosquittoInstalled(), "needs mosquitto");
        TestModels.Model model = TestModels.heavy(5, 1144, 1); // one 1144x1144 float weight: 5.2 MB
        List<String> rows = new ArrayList<>();
        try (MosquittoBroker broker = (MosquittoBroker) TestBroker.mosquitto("artifact-bench")) {
            for (String n : System.getProperty("bench.agents", "100,1000").split(",")) {
                rows.add(run(broker, model.bytes(), Integer.parseInt(n.trim())));
            }
        }
        System.out.println();
        System.out.println("edgefleet artifact delivery benchmark (" + Runtime.getRuntime().availableProcessors()
                + " cores, load average " + loadAverage() + " at the end, Mosquitto deploy/ config, "
                + model.bytes().length + " byte model in " + CHUNK / 1024 + " KiB chunks, window "
                + "16 chunk topics per agent, agents on " + CLIENT.id() + ")");
        System.out.println("| agents | deploy → all verified | failed | chunks received twice | chunk bytes received / (size × agents) "
                + "| broker bytes sent / (size × agents) | broker CPU-s (per GB) | agents' JVM CPU-s (per GB) |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        System.out.flush();
    }

    private String run(MosquittoBroker broker, byte[] bytes, int agents) throws Exception {
        String classId = "bench" + agents;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < agents; i++) {
            ids.add(String.format("%s-%04d", classId, i));
        }
        List<String> passwords = broker.addDevices(classId, ids);
        KeyPair keys = ManifestSigner.generateKeyPair();
        ManifestSigner signer = new ManifestSigner(keys.getPrivate(), keys.getPublic());
        ModelRef ref = new ModelRef("bench", 1, Hashing.sha256Hex(bytes));
        ArtifactManifest manifest = signer.sign(ArtifactChunker.manifest(classId, ref, bytes, CHUNK));
        TestBroker.Login tool = broker.serverLogin().orElseThrow();
        Path data = Files.createTempDirectory("edgefleet-artifact-bench-");
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        List<ScheduledExecutorService> agentThreads = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            agentThreads.add(Executors.newSingleThreadScheduledExecutor());
        }
        List<MqttSession> sessions = new ArrayList<>();
        // Connect attempts of all sessions on one scheduler (the simulator's way), not a thread per session.
        ScheduledExecutorService connector = Executors.newSingleThreadScheduledExecutor();
        MqttTransport.Factory transports = CLIENT == MqttTransport.Kind.PAHO ? PahoTransport.factory() : HiveMqTransport.factory();
        try (RawMqtt server = RawMqtt.connect(broker.url(), tool.username(), tool.password())) {
            for (int i = 0; i < manifest.chunkCount(); i++) {
                server.publish(Topics.chunk(classId, ref.sha256(), i), ArtifactChunker.chunk(bytes, CHUNK, i), 1, true);
            }
            server.publish(Topics.manifest(classId, ref.sha256()), new JsonCodec().encode(manifest), 1, true);
            server.subscribe("$SYS/broker/bytes/sent", 0);

            CountDownLatch finished = new CountDownLatch(agents);
            AtomicInteger verified = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            AtomicLong payloadBytes = new AtomicLong();
            AtomicLong lastVerifiedNanos = new AtomicLong();
            ConcurrentHashMap<String, Boolean> seen = new ConcurrentHashMap<>();
            AtomicInteger twice = new AtomicInteger();
            AtomicInteger losses = new AtomicInteger();
            List<UpdateManager> managers = new ArrayList<>();
            for (int i = 0; i < agents; i++) {
                String id = ids.get(i);
                ScheduledExecutorService thread = agentThreads.get(i % threads);
                ModelStore store = ModelStore.open(data.resolve(id));
                UpdateManager[] um = new UpdateManager[1];
                MqttSession session = new MqttSession(new MqttSession.Settings(broker.url(), id, id, passwords.get(i),
                        3600, null, null), new MqttSession.Handler() {
                    @Override
                    public void onMessage(String topic, byte[] payload) {
                        payloadBytes.addAndGet(payload.length);
                        if (seen.putIfAbsent(id + topic, Boolean.TRUE) != null) {
                            twice.incrementAndGet();
                        }
                        thread.execute(() -> um[0].onArtifactMessage(topic, payload));
                    }

                    @Override
                    public void onConnected(boolean reconnect) {
                    }

                    @Override
                    public void onConnectionLost(String reason) {
                        losses.incrementAndGet();
                        Log.info(id + ": connection lost: " + reason);
                    }
                }, transports, connector);
                um[0] = new UpdateManager(id, classId, MAX_SECONDS * 1000L, store,
                        file -> {
                            throw new ModelException(ReasonCode.LOAD_FAILED, "delivery benchmark: models are not loaded");
                        },
                        new ManifestSigner.Verifier(List.of(keys.getPublic())), session, new EventSink() {
                            @Override
                            public void event(DeviceEvent e) {
                                if (e.type() == DeviceEvent.Type.VERIFIED) {
                                    verified.incrementAndGet();
                                    lastVerifiedNanos.accumulateAndGet(System.nanoTime(), Math::max);
                                    finished.countDown();
                                } else if (e.type() == DeviceEvent.Type.DEPLOY_FAILED && e.reason() != ReasonCode.LOAD_FAILED) {
                                    failed.incrementAndGet();
                                    Log.info(id + ": " + e.reason() + " " + e.detail());
                                    finished.countDown();
                                }
                            }

                            @Override
                            public void statusChanged() {
                            }
                        }, (loaded, m) -> loaded.close(), Timers.on(thread));
                managers.add(um[0]);
                sessions.add(session);
                session.start();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (sessions.stream().anyMatch(s -> !s.isConnected())) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(sessions.stream().filter(s -> !s.isConnected()).count() + " of " + agents
                            + " agents did not connect");
                }
                Thread.sleep(100);
            }
            Thread.sleep(1000); // the subscriptions of the last connects
            long sentBefore = freshSysValue(server, System.currentTimeMillis());

            Command deploy = Command.deploy("dep-" + classId, new ArtifactRef(classId, ref, bytes.length,
                    Topics.manifest(classId, ref.sha256())), new HealthPolicy(0, 0.5, 1, 1));
            double brokerCpu0 = cpuSeconds(broker.pid());
            double jvmCpu0 = cpuSeconds(ProcessHandle.current().pid());
            java.util.Map<String, Double> threadsCpu0 = threadCpuSeconds();
            long t0 = System.nanoTime();
            for (int i = 0; i < agents; i++) {
                UpdateManager um = managers.get(i);
                agentThreads.get(i % threads).execute(() -> um.onDeploy(deploy));
            }
            boolean all = finished.await(MAX_SECONDS, TimeUnit.SECONDS);
            long endMs = System.currentTimeMillis();
            double brokerCpu = cpuSeconds(broker.pid()) - brokerCpu0;
            double jvmCpu = cpuSeconds(ProcessHandle.current().pid()) - jvmCpu0;
            Log.info("artifact bench: " + agents + " agents, JVM CPU-s by thread group during the deployment: "
                    + threadGroupsSince(threadsCpu0));
            double seconds = ((all ? lastVerifiedNanos.get() : System.nanoTime()) - t0) / 1e9;
            long sentAfter = freshSysValue(server, endMs);
            double denominator = (double) bytes.length * agents;
            double gb = denominator / 1e9;
            String row = String.format("| %d | %.1f s%s | %d | %d | %.4fx | %.4fx | %.1f (%.1f) | %.1f (%.1f) |", agents, seconds,
                    all ? "" : " (timed out: " + verified.get() + " verified)", failed.get() + (agents - verified.get()
                            - failed.get()), twice.get(), payloadBytes.get() / denominator,
                    (sentAfter - sentBefore) / denominator, brokerCpu, brokerCpu / gb, jvmCpu, jvmCpu / gb);
            if (losses.get() > 0) {
                Log.info("artifact bench: " + losses.get() + " connection losses during the run");
            }
            Log.info("artifact bench: " + row);
            return row;
        } finally {
            sessions.forEach(MqttSession::close);
            agentThreads.forEach(ScheduledExecutorService::shutdownNow);
            connector.shutdownNow();
            try (Stream<Path> files = Files.walk(data)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The broker's bytes-sent counter from the first $SYS update published after {@code afterMs} (every 10 s by default). */
    private static long freshSysValue(RawMqtt server, long afterMs) throws InterruptedException {
        long wait = afterMs + 50 - System.currentTimeMillis();
        if (wait > 0) {
            Thread.sleep(wait);
        }
        server.drain(); // older updates
        RawMqtt.Received r = server.await(m -> m.topic().equals("$SYS/broker/bytes/sent"), Duration.ofSeconds(30))
                .orElseThrow(() -> new AssertionError("no $SYS/broker/bytes/sent within 30 s"));
        return Long.parseLong(new String(r.payload(), StandardCharsets.UTF_8).trim());
    }

    /** User + system CPU time a process has used so far (Linux: from /proc), in seconds. */
    private static double cpuSeconds(long pid) {
        return ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration())
                .map(d -> d.toNanos() / 1e9).orElseThrow(() -> new AssertionError("no CPU time for pid " + pid));
    }

    /**
     * CPU-seconds (user + system) of every live thread of this JVM by task id, with its name (Linux /proc; the JIT
     * compiler and GC threads included); empty where /proc is not there.
     */
    private static java.util.Map<String, Double> threadCpuSeconds() {
        java.util.Map<String, Double> out = new java.util.HashMap<>();
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return out;
        }
        try (Stream<Path> ts = Files.list(tasks)) {
            ts.forEach(t -> {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    // pid (comm) state ...: utime and stime are fields 14 and 15, in clock ticks (USER_HZ, 100 on Linux)
                    int close = stat.lastIndexOf(')');
                    String name = stat.substring(stat.indexOf('(') + 1, close);
                    String[] f = stat.substring(close + 2).split(" ");
                    double ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    out.put(t.getFileName() + " " + name, ticks / 100.0);
                } catch (java.io.IOException | RuntimeException e) {
                    // the thread ended between the listing and the read
                }
            });
        } catch (java.io.IOException e) {
            return out;
        }
        return out;
    }

    /** CPU-seconds per thread group (names with digits folded) since {@code before}, largest first. */
    private static String threadGroupsSince(java.util.Map<String, Double> before) {
        java.util.Map<String, Double> groups = new java.util.TreeMap<>();
        threadCpuSeconds().forEach((key, now) -> {
            String group = key.substring(key.indexOf(' ') + 1).replaceAll("[0-9]+", "N");
            groups.merge(group, now - before.getOrDefault(key, 0.0), Double::sum);
        });
        StringBuilder sb = new StringBuilder();
        groups.entrySet().stream().filter(e -> e.getValue() >= 0.05)
                .sorted(java.util.Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> sb.append(String.format("%s %.1f; ", e.getKey(), e.getValue())));
        return sb.toString();
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
