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
    CommandProcessor processor;

    @BeforeEach
    void setUp() throws Exception {
        UpdateManager um = new UpdateManager("dev-1", "gw", 60_000, ModelStore.open(dir), new FakeRunner(),
                new ManifestSigner.Verifier(List.of(server.keys.getPublic())), link, sink, (m, r) -> { },
                new ManualTimers());
        processor = new CommandProcessor("dev-1", codec, new SeenCommands(dir.resolve("seen.json"), 4), um,
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
    void aReplayedCommandIdIsIgnoredEvenAfterARestart() throws Exception {
        var a = server.make("gw", "clf", 1, FakeRunner.model("m", 3000));
        Command deploy = a.deploy("dep-1", HealthPolicy.defaults());
        byte[] payload = codec.encode(deploy);
        processor.onCommand(payload);
        assertEquals(List.of(DeviceEvent.Type.DEPLOY_RECEIVED), sink.types());
        int subscribes = link.subscribeCalls.size();
        processor.onCommand(payload);
        assertEquals(1, sink.events.size(), "replay ignored");
        assertEquals(subscribes, link.subscribeCalls.size());
        assertTrue(new SeenCommands(dir.resolve("seen.json"), 4).seen(deploy.id()), "persisted");
    }

    @Test
    void configChangesRuntimeSettingsAndRefusesUnknownOrBadValues() {
        processor.onCommand(codec.encode(Command.config(Map.of("telemetryWindowSeconds", "5", "inferenceIntervalMs", "20"))));
        assertTrue(sink.events.isEmpty());
        assertEquals(List.of("window=5", "interval=20"), applied);

        applied.clear();
        DeviceEvent unknown = rejectionOf(new String(codec.encode(Command.config(Map.of("dataDir", "/tmp"))), StandardCharsets.UTF_8));
        assertEquals(ReasonCode.INVALID_FIELD, unknown.reason());
        assertTrue(unknown.detail().contains("dataDir"));
        assertEquals(ReasonCode.INVALID_FIELD, rejectionOf(new String(codec.encode(
                Command.config(Map.of("telemetryWindowSeconds", "0"))), StandardCharsets.UTF_8)).reason());
        assertEquals(ReasonCode.INVALID_FIELD, rejectionOf(new String(codec.encode(
                Command.config(Map.of("inferenceIntervalMs", "fast"))), StandardCharsets.UTF_8)).reason());
        assertTrue(applied.isEmpty(), "nothing applied from a refused command");
    }

    @Test
    void rollbackWithoutFallbackIsRejected() {
        processor.onCommand(codec.encode(Command.rollback("dep-1", "test")));
        assertEquals(ReasonCode.NO_FALLBACK, sink.last().reason());
        assertNull(sink.last().model());
    }
}
