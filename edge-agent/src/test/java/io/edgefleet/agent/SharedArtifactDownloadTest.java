package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.mqtt.MqttTransport;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.FakeRunner;
import io.edgefleet.agent.testing.ServerClient;
import io.edgefleet.agent.testing.TestBroker;
import io.edgefleet.protocol.DeviceEvent.Type;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Topics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Several devices of one class fetch the same retained artifact from the embedded broker the quickstart uses
 * (Moquette): one after another, and two at once, while another client of the class holds the same manifest and
 * chunk subscriptions (a device in the middle of the same download). Each must complete. Moquette judges "a new
 * subscription" across clients: with retain handling 1 ("send retained only for a new subscription") on a fresh
 * subscribe, a device whose topics another client already held received no manifest and no chunk, its stall
 * re-subscribes got nothing either, and it stayed in DOWNLOADING (the quickstart's wave 2 stalled so).
 */
class SharedArtifactDownloadTest {
    static final String CLASS = "gw";

    @TempDir
    Path dir;

    final Artifacts server = new Artifacts();
    final JsonCodec codec = new JsonCodec();
    final List<Agent> agents = new ArrayList<>();
    TestBroker broker;
    ServerClient srv;
    org.eclipse.paho.mqttv5.client.MqttClient holder;

    @BeforeEach
    void setUp() throws Exception {
        broker = new TestBroker();
        srv = new ServerClient(broker.url());
    }

    @AfterEach
    void tearDown() {
        agents.forEach(Agent::stop);
        if (holder != null) {
            try {
                holder.disconnect();
                holder.close();
            } catch (org.eclipse.paho.mqttv5.common.MqttException e) {
                // the broker goes next anyway
            }
        }
        srv.close();
        broker.close();
    }

    Agent start(String device, MqttTransport.Kind client) throws Exception {
        Agent a = new Agent(AgentConfig.builder().deviceId(device).classId(CLASS).mqttUrl(broker.url())
                .serverKeys(List.of(server.publicKeyBase64())).dataDir(dir.resolve(device)).telemetryWindowSeconds(1)
                .inferenceIntervalMs(20).downloadTimeoutSeconds(30).mqttClient(client).build(), new FakeRunner());
        a.start();
        agents.add(a);
        ServerClient.await(a::isConnected, 10_000, device + " connected");
        return a;
    }

    void deploy(Artifacts.Artifact v1, String device) throws Exception {
        srv.publish(Topics.cmd(device), codec.encode(server.sign(v1.deploy("dep-1", new HealthPolicy(0, 0.05, 1, 1)),
                device)), false);
    }

    /** Another client subscribed to the artifact's manifest and chunk topics, as a device mid-download is. */
    void holdSubscriptions(Artifacts.Artifact a) throws Exception {
        holder = new org.eclipse.paho.mqttv5.client.MqttClient(broker.url(), "holder-" + System.nanoTime(),
                new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        holder.connect();
        List<String> topics = new ArrayList<>(List.of(a.manifestTopic()));
        for (int i = 0; i < a.chunks().size(); i++) {
            topics.add(a.chunkTopic(i));
        }
        for (String t : topics) {
            holder.subscribe(t, 1);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(MqttTransport.Kind.class)
    void everyDeviceOfTheClassDownloadsTheSameRetainedArtifactOneAfterAnotherAndAtOnce(MqttTransport.Kind client)
            throws Exception {
        // ~40 chunks: more than one chunk window per device
        Artifacts.Artifact v1 = server.make(CLASS, "clf", 1, FakeRunner.model("clf-1", Map.of(), 40 * Artifacts.CHUNK));
        srv.publishArtifact(v1);
        holdSubscriptions(v1);
        for (String device : List.of("dev-1", "dev-2", "dev-3")) {
            Agent a = start(device, client);
            deploy(v1, device);
            srv.awaitEvent(device, e -> e.type() == Type.COMMITTED, 30_000);
            assertEquals(v1.model(), a.runningModel(), device + " runs the artifact");
        }
        // two more devices at the same time, after three finished downloads of the same chunks
        Agent d4 = start("dev-4", client);
        Agent d5 = start("dev-5", client);
        deploy(v1, "dev-4");
        deploy(v1, "dev-5");
        srv.awaitEvent("dev-4", e -> e.type() == Type.COMMITTED, 30_000);
        srv.awaitEvent("dev-5", e -> e.type() == Type.COMMITTED, 30_000);
        assertEquals(v1.model(), d4.runningModel());
        assertEquals(v1.model(), d5.runningModel());
    }
}
