package io.edgefleet.agent.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.agent.store.ModelStore;
import io.edgefleet.agent.store.SeenCommands;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.FakeLink;
import io.edgefleet.agent.testing.FakeRunner;
import io.edgefleet.agent.testing.ManualTimers;
import io.edgefleet.agent.testing.RecordingSink;
import io.edgefleet.agent.update.CommandProcessor;
import io.edgefleet.agent.update.UpdateManager;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ReasonCode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The capture opt-in reaches the sampler only through a signed CONFIG command with valid values. */
class CaptureConfigTest {
    @TempDir
    Path dir;

    final Artifacts server = new Artifacts();
    final RecordingSink sink = new RecordingSink();
    final JsonCodec codec = new JsonCodec();
    final List<String> applied = new ArrayList<>();

    private CommandProcessor processor() throws Exception {
        ManifestSigner.Verifier verifier = new ManifestSigner.Verifier(List.of(server.keys.getPublic()));
        UpdateManager updates = new UpdateManager("dev-1", "gw", 60_000, ModelStore.open(dir.resolve("store")),
                new FakeRunner(), verifier, new FakeLink(), sink, (m, r) -> { }, new ManualTimers());
        return new CommandProcessor("dev-1", codec, new SeenCommands(dir.resolve("seen.json"), 16), verifier,
                System::currentTimeMillis, updates, new CommandProcessor.RuntimeConfig() {
                    @Override
                    public void telemetryWindowSeconds(int seconds) {
                    }

                    @Override
                    public void inferenceIntervalMs(long millis) {
                    }

                    @Override
                    public void capture(double rate, int maxSamples, long maxBytes) {
                        applied.add(rate + "/" + maxSamples + "/" + maxBytes);
                    }
                }, sink);
    }

    private void send(CommandProcessor cp, Map<String, String> config, boolean signed) {
        Command c = Command.config(config);
        c = signed ? server.sign(c, "dev-1") : c.addressedTo("dev-1", System.currentTimeMillis() + 60_000);
        cp.onCommand(codec.encode(c));
    }

    @Test
    void onlyASignedValidOptInIsApplied() throws Exception {
        CommandProcessor cp = processor();
        Map<String, String> on = Map.of("captureRate", "0.25", "captureMaxSamples", "8", "captureMaxBytes", "4096");
        send(cp, on, false);
        assertEquals(List.of(), applied);
        assertEquals(ReasonCode.COMMAND_UNSIGNED, sink.last().reason());

        for (Map<String, String> bad : List.of(Map.of("captureRate", "1.5", "captureMaxSamples", "8", "captureMaxBytes", "1"),
                Map.of("captureRate", "0.5"), Map.of("captureMaxSamples", "8"),
                Map.of("captureRate", "0.5", "captureMaxSamples", "0", "captureMaxBytes", "10"))) {
            send(cp, bad, true);
            assertEquals(ReasonCode.INVALID_FIELD, sink.last().reason(), bad.toString());
        }
        assertEquals(List.of(), applied);

        send(cp, on, true);
        send(cp, Map.of("captureRate", "0"), true);
        assertEquals(List.of("0.25/8/4096", "0.0/0/0"), applied);
    }
}
