package io.edgefleet.agent.update;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.store.ModelStore;
import io.edgefleet.agent.store.SeenCommands;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.FakeLink;
import io.edgefleet.agent.testing.FakeRunner;
import io.edgefleet.agent.testing.ManualTimers;
import io.edgefleet.agent.testing.RecordingSink;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ReasonCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandProcessorTest {
    @TempDir
    Path dir;

    final JsonCodec codec = new JsonCodec();
    final RecordingSink sink = new RecordingSink();
    final FakeLink link = new FakeLink();
    final Artifacts server = new Artifacts();
    final List<String> applied = new ArrayList<>();
    long now = System.currentTimeMillis();
    CommandProcessor processor;

    @BeforeEach
    void setUp() throws Exception {
        UpdateManager um = new UpdateManager("dev-1", "gw", 60_000, ModelStore.open(dir), new FakeRunner(),
                new ManifestSigner.Verifier(List.of(server.keys.getPublic())), link, sink, (m, r) -> { },
                new ManualTimers());
        processor = new CommandProcessor("dev-1", codec, new SeenCommands(dir.resolve("seen.json"), 4),
                new ManifestSigner.Verifier(List.of(server.keys.getPublic())), () -> now, um,
                new CommandProcessor.RuntimeConfig() {
                    @Override
                    public void telemetryWindowSeconds(int seconds) {
                        applied.add("window=" + seconds);
                    }

                    @Override
                    public void inferenceIntervalMs(long millis) {
                        applied.add("interval=" + millis);
                    }
                }, sink);
    }

    private byte[] signed(Command c) {
        return codec.encode(server.sign(c, "dev-1"));
    }

    private DeviceEvent rejectionOf(Command c) {
        return rejectionOf(new String(codec.encode(c), StandardCharsets.UTF_8));
    }

    private DeviceEvent rejectionOf(String json) {
        sink.clear();
        processor.onCommand(json.getBytes(StandardCharsets.UTF_8));
        assertEquals(1, sink.events.size(), sink.types().toString());
        DeviceEvent e = sink.last();
        assertEquals(DeviceEvent.Type.COMMAND_REJECTED, e.type());
        return e;
    }

    @Test
    void malformedCommandsAreRejectedWithTheCodecReason() {
        assertEquals(ReasonCode.MALFORMED_PAYLOAD, rejectionOf("{\"v\":1,").reason());
        assertEquals(ReasonCode.MALFORMED_PAYLOAD, rejectionOf("[]").reason());
        assertEquals(ReasonCode.UNSUPPORTED_VERSION, rejectionOf("{\"v\":9,\"id\":\"a\",\"ts\":1,\"type\":\"ROLLBACK\"}").reason());
        DeviceEvent missing = rejectionOf("{\"v\":1,\"id\":\"b\",\"ts\":1,\"type\":\"DEPLOY\"}");
        assertEquals(ReasonCode.MISSING_FIELD, missing.reason());
        assertTrue(missing.detail().contains("deploymentId"), missing.detail());
        assertEquals(ReasonCode.MALFORMED_PAYLOAD, rejectionOf("{\"v\":1,\"id\":\"c\",\"ts\":1,\"type\":\"EXPLODE\"}").reason());
        sink.clear();
        processor.onCommand(new byte[0]);
        assertEquals(ReasonCode.MALFORMED_PAYLOAD, sink.last().reason());
    }

    @Test
    void aReplayedCommandIdIsRefusedEvenAfterARestart() throws Exception {
        var a = server.make("gw", "clf", 1, FakeRunner.model("m", 3000));
        Command deploy = server.sign(a.deploy("dep-1", HealthPolicy.defaults()), "dev-1");
        byte[] payload = codec.encode(deploy);
        processor.onCommand(payload);
        assertEquals(List.of(DeviceEvent.Type.DEPLOY_RECEIVED), sink.types());
        int subscribes = link.subscribeCalls.size();
        processor.onCommand(payload);
        assertEquals(2, sink.events.size(), "replay answered, not run");
        assertEquals(ReasonCode.COMMAND_REPLAYED, sink.last().reason());
        assertNull(sink.last().deploymentId(), "a QoS 1 redelivery must not fail the running deployment's target");
        assertEquals(subscribes, link.subscribeCalls.size());
        assertTrue(new SeenCommands(dir.resolve("seen.json"), 4).seen(deploy.id()), "persisted");
    }

    /** Promise 3 at the agent: what the signature check refuses never reaches the update manager. */
    @Test
    void unsignedExpiredForeignAndForgedCommandsAreRefusedBeforeTheyRun() throws Exception {
        var a = server.make("gw", "clf", 1, FakeRunner.model("m", 3000));
        Command deploy = a.deploy("dep-1", HealthPolicy.defaults());

        DeviceEvent unsigned = rejectionOf(deploy);
        assertEquals(ReasonCode.COMMAND_UNSIGNED, unsigned.reason());
        assertNull(unsigned.deploymentId(), "an unverified command's deployment id is not repeated");

        DeviceEvent expired = rejectionOf(server.signer.sign(deploy, "dev-1", now - 1));
        assertEquals(ReasonCode.COMMAND_EXPIRED, expired.reason());
        assertEquals("dep-1", expired.deploymentId(), "an authentic but late deploy fails its target");

        assertEquals(ReasonCode.COMMAND_FOREIGN, rejectionOf(server.signer.sign(deploy, "dev-2", now + 60_000)).reason());

        Artifacts stranger = new Artifacts();
        assertEquals(ReasonCode.SIGNATURE_INVALID, rejectionOf(stranger.sign(deploy, "dev-1")).reason());

        Command real = server.sign(Command.rollback("dep-1", "x"), "dev-1");
        Command edited = new Command(real.v(), real.id(), real.ts(), real.type(), "dep-9", null, null, real.reason(), null,
                real.deviceId(), real.expiresAt(), real.keyId(), real.signature());
        assertEquals(ReasonCode.SIGNATURE_INVALID, rejectionOf(edited).reason());

        assertTrue(link.subscribeCalls.isEmpty(), "no refused deploy started a download");
        assertTrue(new SeenCommands(dir.resolve("seen.json"), 4).size() == 0, "refused ids are not recorded");
        // The refused rollback's id is still free: the genuine command runs.
        sink.clear();
        processor.onCommand(codec.encode(real));
        assertEquals(ReasonCode.NO_FALLBACK, sink.last().reason());
    }

    @Test
    void configChangesRuntimeSettingsAndRefusesUnknownOrBadValues() {
        processor.onCommand(signed(Command.config(Map.of("telemetryWindowSeconds", "5", "inferenceIntervalMs", "20"))));
        assertTrue(sink.events.isEmpty());
        assertEquals(List.of("window=5", "interval=20"), applied);

        applied.clear();
        DeviceEvent unknown = rejectionOf(new String(signed(Command.config(Map.of("dataDir", "/tmp"))), StandardCharsets.UTF_8));
        assertEquals(ReasonCode.INVALID_FIELD, unknown.reason());
        assertTrue(unknown.detail().contains("dataDir"));
        assertEquals(ReasonCode.INVALID_FIELD, rejectionOf(new String(signed(
                Command.config(Map.of("telemetryWindowSeconds", "0"))), StandardCharsets.UTF_8)).reason());
        assertEquals(ReasonCode.INVALID_FIELD, rejectionOf(new String(signed(
                Command.config(Map.of("inferenceIntervalMs", "fast"))), StandardCharsets.UTF_8)).reason());
        assertTrue(applied.isEmpty(), "nothing applied from a refused command");
    }

    @Test
    void rollbackWithoutFallbackIsRejected() {
        processor.onCommand(signed(Command.rollback("dep-1", "test")));
        assertEquals(ReasonCode.NO_FALLBACK, sink.last().reason());
        assertNull(sink.last().model());
    }
}
