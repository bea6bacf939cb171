package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.ServerClient;
import io.edgefleet.agent.testing.TestBroker;
import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.DeviceEvent.Type;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.PowerModel;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.protocol.drift.DriftThresholds;
import io.edgefleet.protocol.drift.ProfileBuilder;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.protocol.drift.TensorSample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real agent (ONNX Runtime, synthetic inputs) over a real broker: every window names its energy
 * source, the power model and the reference profile come from the signed manifest, and without a
 * profile the agent builds a self-reference and says so.
 */
class AgentDriftEnergyTest {
    static final String CLASS = "gw";
    static final String DEV = "dev-de";

    @TempDir
    Path dir;

    final Artifacts server = new Artifacts();
    final JsonCodec codec = new JsonCodec();
    TestBroker broker;
    ServerClient srv;
    Agent agent;

    @BeforeEach
    void setUp() throws Exception {
        broker = new TestBroker();
        srv = new ServerClient(broker.url());
    }

    @AfterEach
    void tearDown() {
        if (agent != null) {
            agent.stop();
        }
        srv.close();
        broker.close();
    }

    private Agent start() throws Exception {
        Path sysfs = Files.createDirectories(dir.resolve("sys")); // no sensors: the energy model
        AgentConfig c = AgentConfig.builder().deviceId(DEV).classId(CLASS).mqttUrl(broker.url())
                .serverKeys(List.of(server.publicKeyBase64())).dataDir(dir.resolve("agent")).telemetryWindowSeconds(1)
                .inferenceIntervalMs(5).downloadTimeoutSeconds(30).sysfsRoot(sysfs).driftSelfReferenceSamples(40)
                .driftMinWindowSamples(10).build();
        Agent a = new Agent(c);
        a.start();
        ServerClient.await(a::isConnected, 10_000, "agent connected");
        return a;
    }

    private TelemetryWindow awaitWindow(java.util.function.Predicate<TelemetryWindow> p, String what) throws Exception {
        ServerClient.await(() -> srv.telemetry(DEV).stream().anyMatch(p), 20_000, what);
        return srv.telemetry(DEV).stream().filter(p).findFirst().orElseThrow();
    }

    @Test
    void signedProfileAndPowerModelDriveDriftAndEnergy() throws Exception {
        agent = start();
        // A reference far from the synthetic inputs the agent feeds itself: its drift must alert.
        ProfileBuilder b = new ProfileBuilder();
        for (int i = 0; i < 300; i++) {
            float[] x = {100 + i % 7, 101, 99, 100};
            b.add(List.of(TensorSample.ofFloats("X", new long[] {1, 4}, x)),
                    List.of(TensorSample.ofFloats("Y", new long[] {1, 3}, new float[] {1, 0, i % 3})));
        }
        ReferenceProfile profile = b.build(ReferenceProfile.SOURCE_VALIDATION);
        Artifacts.Artifact v1 = server.make(CLASS, "lin", 1, TinyOnnx.linear(), profile, new PowerModel(2.5, 6.5));
        srv.publishArtifact(v1);
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(v1.deploy("dep-1", new HealthPolicy(0, 0.5, 1, 1)), DEV)), false);
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED, 20_000);

        TelemetryWindow w = awaitWindow(t -> v1.model().equals(t.model()) && t.driftDetail() != null, "a drift window");
        assertEquals("model", w.energySource(), "the manifest's power model, no sensor under the fake sysfs");
        assertNotNull(w.energyJoules());
        assertTrue(w.energyJoules() >= 0);
        assertEquals("validation", w.driftDetail().reference());
        assertTrue(w.drift() >= DriftThresholds.PSI_ALERT, "drift " + w.drift());
        assertEquals(w.drift(), w.driftDetail().psi());
        for (TelemetryWindow t : srv.telemetry(DEV)) {
            assertNotNull(t.energySource(), "every window names its energy source");
        }
    }

    @Test
    void withoutAProfileTheAgentUsesItsFirstInferencesAndSaysSo() throws Exception {
        agent = start();
        Artifacts.Artifact v1 = server.make(CLASS, "lin", 1, TinyOnnx.linear());
        srv.publishArtifact(v1);
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(v1.deploy("dep-1", new HealthPolicy(0, 0.5, 1, 1)), DEV)), false);
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED, 20_000);
        TelemetryWindow w = awaitWindow(t -> v1.model().equals(t.model()) && t.driftDetail() != null, "a drift window");
        assertEquals("self", w.driftDetail().reference());
        assertEquals("model-local", w.energySource(), "no power model in the manifest: the local setting, named so");
        assertTrue(Files.exists(dir.resolve("agent/model-extras/" + v1.model().sha256() + ".self.json")),
                "the self-reference is kept for restarts");
    }
}
