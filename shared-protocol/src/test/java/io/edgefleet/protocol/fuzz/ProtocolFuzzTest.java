package io.edgefleet.protocol.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.ProtocolException;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.protocol.data.NpyFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;

/**
 * Promise 7, fuzzed: every MQTT message kind and the {@code .npz} reader take arbitrary bytes and
 * answer with a well-formed value or their own refusal ({@link ProtocolException} with a reason,
 * {@code IOException}/{@link NpyFormatException} for archives); anything else escaping is a finding.
 *
 * <p>Without {@code JAZZER_FUZZ} these run as regression tests over the checked-in seeds in
 * {@code src/test/resources/io/edgefleet/protocol/fuzz/ProtocolFuzzTestInputs/<method>/} (every build);
 * {@code .ci/fuzz} runs each one in fuzzing mode for a bounded time (docs/security.md).
 */
class ProtocolFuzzTest {
    private static final JsonCodec CODEC = new JsonCodec();
    private static final ManifestSigner.Verifier VERIFIER =
            new ManifestSigner.Verifier(List.of(ManifestSigner.generateKeyPair().getPublic()));

    private static <T extends Message> T decodeOrRefuse(byte[] data, Class<T> type) {
        try {
            T m = CODEC.decode(data, type);
            if (m == null) {
                throw new AssertionError("decode returned null instead of refusing");
            }
            return m;
        } catch (ProtocolException e) {
            if (e.reason() == null) {
                throw new AssertionError("a refusal without a reason code", e);
            }
            return null;
        }
    }

    @FuzzTest(maxDuration = "10s")
    void command(byte[] data) {
        Command c = decodeOrRefuse(data, Command.class);
        if (c != null) {
            try {
                VERIFIER.verify(c, "dev-1", System.currentTimeMillis());
                throw new AssertionError("a command no pinned key signed was accepted: " + c);
            } catch (ProtocolException expected) {
                // unsigned, forged, foreign or expired: refused with a reason, never an exception of another kind
            }
        }
    }

    @FuzzTest(maxDuration = "10s")
    void deviceEvent(byte[] data) {
        decodeOrRefuse(data, DeviceEvent.class);
    }

    @FuzzTest(maxDuration = "10s")
    void deviceStatus(byte[] data) {
        decodeOrRefuse(data, DeviceStatus.class);
    }

    @FuzzTest(maxDuration = "10s")
    void telemetryWindow(byte[] data) {
        decodeOrRefuse(data, TelemetryWindow.class);
    }

    @FuzzTest(maxDuration = "10s")
    void artifactManifest(byte[] data) {
        ArtifactManifest m = decodeOrRefuse(data, ArtifactManifest.class);
        if (m != null) {
            try {
                VERIFIER.verify(m);
                throw new AssertionError("a manifest no pinned key signed was accepted");
            } catch (ProtocolException expected) {
                // refused with SIGNATURE_INVALID
            }
        }
    }

    @FuzzTest(maxDuration = "10s")
    void npz(byte[] data) {
        try {
            Npz.read(new ByteArrayInputStream(data), 1 << 20, "fuzz.npz");
        } catch (IOException | NpyFormatException e) {
            // refused with a message
        }
    }
}
