package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.mqtt.MqttTransport;
import io.edgefleet.agent.store.Phase;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.FakeRunner;
import io.edgefleet.agent.testing.ServerClient;
import io.edgefleet.agent.testing.TestBroker;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceEvent.Type;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent over a real MQTT 5 broker (Moquette in-process), with the test playing the server:
 * signed retained artifacts, commands, and what the agent publishes back. The model runner is the
 * fake one, so this tests the session and the protocol, not ONNX Runtime.
 */
class AgentMqttTest {
    static final String CLASS = "gw";
    static final String DEV = "dev-1";

    @TempDir
    Path dir;

    final Artifacts server = new Artifacts();
    final JsonCodec codec = new JsonCodec();
    TestBroker broker;
    ServerClient srv;
    Agent agent;
    /** Every scenario runs on both MQTT clients: Paho (a device's default) and HiveMQ (the simulator's). */
    MqttTransport.Kind client = MqttTransport.Kind.PAHO;

    @BeforeEach
    void setUp() throws Exception {
        broker = new TestBroker();
        srv = new ServerClient(broker.url());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (agent != null) {
            agent.stop();
        }
        srv.close();
        broker.close();
    }

    AgentConfig config() {
        return AgentConfig.builder().deviceId(DEV).classId(CLASS).mqttUrl(broker.url()).serverKeys(List.of(server.publicKeyBase64()))
                .dataDir(dir.resolve("agent")).telemetryWindowSeconds(1).inferenceIntervalMs(10)
                .downloadTimeoutSeconds(30).mqttClient(client).build();
    }

    Agent startAgent() throws Exception {
        Agent a = new Agent(config(), new FakeRunner());
        a.start();
        ServerClient.await(a::isConnected, 10_000, "agent connected");
        return a;
    }

    void command(Command c) throws Exception {
        srv.publish(Topics.cmd(DEV), codec.encode(c.signed() ? c : server.sign(c, DEV)), false);
    }

    Artifacts.Artifact artifact(long version, Map<String, String> spec) {
        return server.make(CLASS, "clf", version, FakeRunner.model("clf-" + version, spec, 3000));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(MqttTransport.Kind.class)
    void deploysOverMqttCommitsThenRollsBackABreachingUpdateByItself(MqttTransport.Kind client) throws Exception {
        this.client = client;
        agent = startAgent();
        ServerClient.await(() -> srv.lastStatus(DEV) != null, 5000, "ONLINE status");
        DeviceStatus online = srv.lastStatus(DEV);
        assertEquals(DeviceStatus.State.ONLINE, online.state());
        assertNull(online.active());
        assertTrue(srv.received.stream().filter(r -> r.topic().equals(Topics.status(DEV))).allMatch(
                r -> Protocol.CONTENT_TYPE_JSON.equals(r.contentType())), "JSON content type on every message");

        Artifacts.Artifact v1 = artifact(1, Map.of());
        srv.publishArtifact(v1);
        command(v1.deploy("dep-1", new HealthPolicy(0, 0.05, 2, 5)));
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED, 15_000);
        List<Type> types = srv.events(DEV).stream().map(DeviceEvent::type).toList();
        assertEquals(List.of(Type.DEPLOY_RECEIVED, Type.DOWNLOADED, Type.VERIFIED, Type.ACTIVATED, Type.COMMITTED),
                types.stream().filter(t -> t != Type.DOWNLOAD_PROGRESS).toList());
        ServerClient.await(() -> v1.model().equals(srv.lastStatus(DEV).active()), 5000, "status names v1");
        ServerClient.await(() -> srv.telemetry(DEV).stream().anyMatch(w -> v1.model().equals(w.model())), 5000, "telemetry of v1");

        // v2 is slow (30 ms per inference) against a 10 ms SLO: the agent must roll back on its own.
        Artifacts.Artifact v2 = artifact(2, Map.of("latencyMs", "30"));
        srv.publishArtifact(v2);
        command(v2.deploy("dep-2", new HealthPolicy(10, 0.05, 2, 5)));
        DeviceEvent rb = srv.awaitEvent(DEV, e -> e.type() == Type.ROLLED_BACK, 15_000);
        assertEquals(ReasonCode.LATENCY_SLO_BREACH, rb.reason());
        assertEquals("dep-2", rb.deploymentId());
        assertEquals(v1.model(), rb.model());
        assertTrue(rb.detail().matches("p95 \\d+\\.\\d ms > SLO 10\\.0 ms in window \\d+ and \\d+\\.\\d ms in the window "
                + "before"), rb.detail());
        ServerClient.await(() -> v1.model().equals(srv.lastStatus(DEV).active()), 5000, "status back on v1");
        assertEquals(v1.model(), agent.runningModel());
        assertEquals(Phase.IDLE, agent.state().phase());

        // QoS 1 may deliver a window twice (same id, which the server de-duplicates); seq has no gaps.
        List<TelemetryWindow> windows = srv.telemetry(DEV);
        List<Long> seqs = windows.stream().map(TelemetryWindow::seq).distinct().toList();
        for (int i = 1; i < seqs.size(); i++) {
            assertEquals(seqs.get(i - 1) + 1, seqs.get(i), "seq without gaps: " + seqs);
        }
        assertEquals(seqs.size(), windows.stream().map(TelemetryWindow::id).distinct().count(),
                "a repeated window is a duplicate delivery of the same message");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(MqttTransport.Kind.class)
    void malformedCommandsAreRejectedAndReplaysIgnored(MqttTransport.Kind client) throws Exception {
        this.client = client;
        agent = startAgent();
        srv.publish(Topics.cmd(DEV), "{\"v\":1,\"type\":".getBytes(StandardCharsets.UTF_8), false);
        DeviceEvent rej = srv.awaitEvent(DEV, e -> e.type() == Type.COMMAND_REJECTED, 5000);
        assertEquals(ReasonCode.MALFORMED_PAYLOAD, rej.reason());

        Command rollback = server.sign(Command.rollback("dep-x", "first"), DEV);
        command(rollback);
        srv.awaitEvent(DEV, e -> e.reason() == ReasonCode.NO_FALLBACK, 5000);
        command(rollback); // same id again
        Command other = Command.rollback("dep-y", "second");
        command(other);
        ServerClient.await(() -> srv.events(DEV).stream().filter(e -> e.reason() == ReasonCode.NO_FALLBACK).count() == 2,
                5000, "second rollback answered");
        DeviceEvent replay = srv.awaitEvent(DEV, e -> e.reason() == ReasonCode.COMMAND_REPLAYED, 5000);
        assertNull(replay.deploymentId(), "a redelivery must not fail the deployment's target");
        // Unsigned, as an old server would send it: refused over the real broker too.
        srv.publish(Topics.cmd(DEV), codec.encode(Command.rollback("dep-z", "unsigned")), false);
        srv.awaitEvent(DEV, e -> e.reason() == ReasonCode.COMMAND_UNSIGNED, 5000);
        Thread.sleep(200);
        assertEquals(List.of("dep-x", "dep-y"), srv.events(DEV).stream().filter(e -> e.reason() == ReasonCode.NO_FALLBACK)
                .map(DeviceEvent::deploymentId).toList(), "the replayed command was not executed twice");
        assertTrue(agent.isConnected(), "bad input never takes the session down");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(MqttTransport.Kind.class)
    void aKilledAgentLeavesAnOfflineWillAndARestartedOneKeepsItsModel(MqttTransport.Kind client) throws Exception {
        this.client = client;
        agent = startAgent();
        Artifacts.Artifact v1 = artifact(1, Map.of());
        srv.publishArtifact(v1);
        command(v1.deploy("dep-1", new HealthPolicy(0, 0.05, 1, 1)));
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED, 15_000);

        agent.kill();
        agent = null;
        ServerClient.await(() -> srv.lastStatus(DEV).state() == DeviceStatus.State.OFFLINE, 10_000, "will published");
        assertNull(srv.lastStatus(DEV).active(), "the will names no model: it was fixed at connect time");

        agent = startAgent();
        ServerClient.await(() -> srv.lastStatus(DEV).state() == DeviceStatus.State.ONLINE, 5000, "online again");
        assertEquals(v1.model(), agent.runningModel());
        assertEquals(v1.model(), srv.lastStatus(DEV).active());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(MqttTransport.Kind.class)
    void commandsSentWhileTheAgentIsStoppedArriveWhenItReturns(MqttTransport.Kind client) throws Exception {
        this.client = client;
        agent = startAgent();
        agent.stop();
        agent = null;
        ServerClient.await(() -> srv.lastStatus(DEV) != null && srv.lastStatus(DEV).state() == DeviceStatus.State.OFFLINE,
                5000, "orderly OFFLINE status");
        ServerClient.await(() -> !broker.connected(DEV), 5000, "the broker has ended the stopped agent's connection");
        command(Command.rollback("dep-queued", "sent while offline"));
        agent = startAgent();
        DeviceEvent e = srv.awaitEvent(DEV, ev -> "dep-queued".equals(ev.deploymentId()), 10_000);
        assertEquals(ReasonCode.NO_FALLBACK, e.reason());
    }

    /** The device's telemetry windows as the broker accepted them, in arrival order. */
    private List<TelemetryWindow> brokerTelemetry() {
        io.edgefleet.protocol.JsonCodec codec = new io.edgefleet.protocol.JsonCodec();
        List<TelemetryWindow> out = new java.util.ArrayList<>();
        for (TestBroker.Published p : broker.published()) {
            if (p.topic().equals(Topics.telemetry(DEV))) {
                try {
                    out.add(codec.decode(p.payload(), TelemetryWindow.class));
                } catch (io.edgefleet.protocol.ProtocolException e) {
                    throw new AssertionError("the agent published a telemetry window that does not decode", e);
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(MqttTransport.Kind.class)
    void telemetryProducedWhileTheBrokerIsDownIsReplayedInOrder(MqttTransport.Kind client) throws Exception {
        this.client = client;
        agent = startAgent();
        Artifacts.Artifact v1 = artifact(1, Map.of());
        srv.publishArtifact(v1);
        command(v1.deploy("dep-1", new HealthPolicy(0, 0.05, 1, 1)));
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED, 15_000);
        ServerClient.await(() -> !srv.telemetry(DEV).isEmpty(), 5000, "live telemetry");

        broker.stop();
        ServerClient.await(() -> agent.bufferedTelemetry() >= 2, 10_000, "windows buffered on disk");
        srv.close();
        broker.start();
        // The test's server client subscribes again, but the agent's reconnect may win that race: what the agent
        // delivered is read from the broker's own record of accepted PUBLISHes, which no subscription timing affects.
        srv = new ServerClient(broker.url(), srv.received);
        ServerClient.await(() -> agent.isConnected() && agent.bufferedTelemetry() == 0, 20_000, "buffer drained");
        ServerClient.await(() -> brokerTelemetry().stream().anyMatch(w -> !w.replayed()
                && brokerTelemetry().stream().anyMatch(TelemetryWindow::replayed)), 20_000, "live windows after the replay");

        List<TelemetryWindow> all = brokerTelemetry();
        List<TelemetryWindow> replayed = all.stream().filter(TelemetryWindow::replayed).toList();
        assertTrue(replayed.size() >= 2, "replayed " + replayed.size());
        for (int i = 1; i < replayed.size(); i++) {
            assertTrue(replayed.get(i).seq() > replayed.get(i - 1).seq(), "replayed in order");
        }
        List<Long> seqs = all.stream().map(TelemetryWindow::seq).distinct().sorted().toList();
        assertEquals(seqs.get(seqs.size() - 1) - seqs.get(0) + 1, seqs.size(),
                "every window from before, during and after the outage arrived: " + seqs);
    }
}
