package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.agent.mqtt.MqttSession;
import io.edgefleet.agent.store.ModelStore;
import io.edgefleet.agent.update.EventSink;
import io.edgefleet.agent.update.Timers;
import io.edgefleet.agent.update.UpdateManager;
import io.edgefleet.it.CuttableProxy;
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
import io.edgefleet.protocol.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, part 2, against Mosquitto with the shipped {@code deploy/} config: an agent's download path
 * (its MQTT session and update manager, with a real device login and ACL) loses its connection in the
 * middle of a download and resumes; every chunk index reaches it exactly once. The test plays the server
 * (retained chunks and signed manifest, published with the tool login, as {@code ArtifactPublisher} does);
 * a relay between agent and broker is cut the way a network failure would cut it, broker still running.
 */
class ArtifactResumeIT {
    static final String CLASS = "dl";
    static final String DEVICE = "dl-0001";
    static final int CHUNK = 16 * 1024;

    @TempDir
    Path dir;

    @Test
    void anAgentThatLosesItsConnectionMidDownloadGetsOnlyTheMissingChunksEachOnce() throws Exception {
        assumeTrue(TestBroker.isMosquittoInstalled(), "mosquitto is not installed");
        TestModels.Model model = TestModels.heavy(11, 512, 1); // about 1 MiB: 65 chunks of 16 KiB
        byte[] bytes = model.bytes();
        KeyPair keys = ManifestSigner.generateKeyPair();
        ManifestSigner signer = new ManifestSigner(keys.getPrivate(), keys.getPublic());
        ModelRef ref = new ModelRef("resume", 1, Hashing.sha256Hex(bytes));
        ArtifactManifest manifest = signer.sign(ArtifactChunker.manifest(CLASS, ref, bytes, CHUNK));
        int chunks = manifest.chunkCount();
        assertTrue(chunks > 3 * 16, chunks + " chunks: several windows");

        ScheduledExecutorService agentThread = Executors.newSingleThreadScheduledExecutor();
        try (MosquittoBroker broker = (MosquittoBroker) TestBroker.mosquitto("artifact-resume");
             CuttableProxy proxy = new CuttableProxy("127.0.0.1", broker.port())) {
            String password = broker.addDevices(CLASS, List.of(DEVICE)).get(0);
            TestBroker.Login tool = broker.serverLogin().orElseThrow();
            try (RawMqtt server = RawMqtt.connect(broker.url(), tool.username(), tool.password())) {
                for (int i = 0; i < chunks; i++) {
                    assertTrue(RawMqtt.accepted(server.publish(Topics.chunk(CLASS, ref.sha256(), i),
                            ArtifactChunker.chunk(bytes, CHUNK, i), 1, true)));
                }
                assertTrue(RawMqtt.accepted(server.publish(Topics.manifest(CLASS, ref.sha256()),
                        new JsonCodec().encode(manifest), 1, true)));
            }

            // The agent's download path, wired as Agent wires it, counting what arrives per chunk index.
            Map<Integer, AtomicInteger> perChunk = new ConcurrentHashMap<>();
            AtomicInteger stored = new AtomicInteger();
            List<DeviceEvent> events = new CopyOnWriteArrayList<>();
            AtomicInteger connects = new AtomicInteger();
            ModelStore store = ModelStore.open(dir.resolve("agent"));
            UpdateManager[] um = new UpdateManager[1];
            // The relay stops delivering the moment a third of the chunks has arrived (the rest of the window is
            // on its way), then is cut: the connection is lost mid-download whatever the machine's speed.
            java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean();
            MqttSession session = new MqttSession(new MqttSession.Settings(proxy.url(), DEVICE, DEVICE, password, 3600,
                    null, null), new MqttSession.Handler() {
                @Override
                public void onMessage(String topic, byte[] payload) {
                    Topics.parse(topic).filter(p -> p.kind() == Topics.Kind.CHUNK)
                            .ifPresent(p -> perChunk.computeIfAbsent(p.chunkIndex(), k -> new AtomicInteger()).incrementAndGet());
                    if (perChunk.size() >= chunks / 3 && held.compareAndSet(false, true)) {
                        proxy.hold();
                    }
                    agentThread.execute(() -> {
                        um[0].onArtifactMessage(topic, payload);
                        if (Topics.parse(topic).map(p -> p.kind() == Topics.Kind.CHUNK).orElse(false)) {
                            stored.incrementAndGet();
                        }
                    });
                }

                @Override
                public void onConnected(boolean reconnect) {
                    connects.incrementAndGet();
                }

                @Override
                public void onConnectionLost(String reason) {
                    Log.info(DEVICE + " lost its connection: " + reason);
                }
            });
            List<LoadedModel> active = new CopyOnWriteArrayList<>();
            um[0] = new UpdateManager(DEVICE, CLASS, 60_000, store, new OrtModelRunner(1, null),
                    new ManifestSigner.Verifier(List.of(keys.getPublic())), session, new EventSink() {
                        @Override
                        public void event(DeviceEvent event) {
                            events.add(event);
                        }

                        @Override
                        public void statusChanged() {
                        }
                    }, (loaded, m) -> active.add(loaded), Timers.on(agentThread));
            try {
                session.start();
                await(session::isConnected, 10_000, "agent connected through the relay");
                Command deploy = Command.deploy("dep-resume",
                        new ArtifactRef(CLASS, ref, bytes.length, Topics.manifest(CLASS, ref.sha256())),
                        new HealthPolicy(0, 0.5, 1, 1));
                agentThread.execute(() -> um[0].onDeploy(deploy));

                await(held::get, 20_000, "a third of the chunks received");
                proxy.cut(500);
                int atCut = perChunk.size();
                Log.info("relay cut with " + atCut + " of " + chunks + " chunks received");
                assertTrue(atCut < chunks, "the connection was lost mid-download (" + atCut + " of " + chunks + ")");
                await(() -> connects.get() >= 2, 20_000, "the agent reconnected");

                await(() -> events.stream().anyMatch(e -> e.type() == DeviceEvent.Type.ACTIVATED
                        || e.type() == DeviceEvent.Type.DEPLOY_FAILED), 30_000, "download finished: " + events);
                DeviceEvent done = events.stream().filter(e -> e.type() == DeviceEvent.Type.ACTIVATED
                        || e.type() == DeviceEvent.Type.DEPLOY_FAILED).findFirst().orElseThrow();
                assertEquals(DeviceEvent.Type.ACTIVATED, done.type(), done.reason() + ": " + done.detail());
                assertEquals(ref.sha256(), Hashing.sha256Hex(store.activeModelPath()));

                // Give a late duplicate (a replay of retained chunks) time to show up before counting.
                Thread.sleep(1000);
                Map<Integer, Integer> counts = new TreeMap<>();
                perChunk.forEach((i, n) -> counts.put(i, n.get()));
                assertEquals(chunks, counts.size(), "every chunk arrived: " + counts.keySet());
                Map<Integer, Integer> twice = new TreeMap<>(counts);
                twice.values().removeIf(n -> n == 1);
                assertTrue(twice.isEmpty(), "chunks delivered more than once (index=count): " + twice);
                Log.info("resumed download: " + chunks + " chunks, each received once, " + connects.get() + " connections");
            } finally {
                session.close();
                active.forEach(LoadedModel::close);
            }
        } finally {
            agentThread.shutdownNow();
            agentThread.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static void await(BooleanSupplier condition, long timeoutMs, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }
}
