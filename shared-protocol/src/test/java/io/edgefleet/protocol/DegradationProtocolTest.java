package io.edgefleet.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The graceful-degradation fields: a DEPLOY's fallback reference is signed and validated, a command without one
 * signs exactly as before, and the telemetry window's {@code modes} are optional both ways.
 */
class DegradationProtocolTest {
    private static final long NOW = 1_800_000_000_000L;
    private final KeyPair keys = ManifestSigner.generateKeyPair();
    private final ManifestSigner signer = new ManifestSigner(keys.getPrivate(), keys.getPublic());
    private final ManifestSigner.Verifier verifier = new ManifestSigner.Verifier(List.of(keys.getPublic()));
    private final JsonCodec codec = new JsonCodec();

    static ArtifactRef ref(String model, long version, char sha, long size) {
        String s = String.valueOf(sha).repeat(64);
        return new ArtifactRef("gw", new ModelRef(model, version, s), size, Topics.manifest("gw", s));
    }

    final ArtifactRef main = ref("kws", 1, 'a', 1000);
    final ArtifactRef light = ref("kws", 2, 'b', 300);
    final HealthPolicy health = new HealthPolicy(25, 0.1, 2, 5);

    @Test
    void theFallbackTravelsSignedAndAnyChangeOrRemovalBreaksTheSignature() {
        Command signed = codec.decode(codec.encode(signer.sign(Command.deploy("dep-1", main, health, light), "dev-1",
                NOW + 60_000)), Command.class);
        assertEquals(light, signed.fallback());
        verifier.verify(signed, "dev-1", NOW);
        for (ArtifactRef changed : new ArtifactRef[] {null, ref("kws", 3, 'b', 300), ref("kws", 2, 'c', 300),
                ref("kws", 2, 'b', 301)}) {
            Command t = new Command(signed.v(), signed.id(), signed.ts(), signed.type(), signed.deploymentId(),
                    signed.artifact(), signed.health(), signed.reason(), signed.config(), signed.deviceId(),
                    signed.expiresAt(), signed.keyId(), signed.signature(), null, null, null, changed);
            assertEquals(ReasonCode.SIGNATURE_INVALID, assertThrows(ProtocolException.class,
                    () -> verifier.verify(t, "dev-1", NOW)).reason(), "fallback " + changed);
        }
    }

    @Test
    void aDeployWithoutFallbackSignsExactlyAsBefore() {
        Command c = Command.deploy("dep-1", main, health);
        assertNull(c.fallback());
        String bytes = new String(c.signedBytes(), StandardCharsets.UTF_8);
        assertTrue(!bytes.contains("fallback"), bytes);
        Command older = new Command(c.v(), c.id(), c.ts(), c.type(), c.deploymentId(), c.artifact(), c.health(),
                c.reason(), c.config(), c.deviceId(), c.expiresAt(), c.keyId(), c.signature());
        assertArrayEquals(older.signedBytes(), c.signedBytes());
        assertTrue(!new String(codec.encode(c), StandardCharsets.UTF_8).contains("fallback"), "no null field on the wire");
    }

    @Test
    void refusesAFallbackOfAnotherModelOrClassTheSameArtifactOrOnAnotherCommand() {
        for (ArtifactRef bad : new ArtifactRef[] {ref("other", 2, 'b', 300), main,
                new ArtifactRef("gw2", light.model(), 300, Topics.manifest("gw2", light.model().sha256())),
                new ArtifactRef("gw", light.model(), 300, Topics.manifest("gw", "f".repeat(64)))}) {
            Command c = Command.deploy("dep-1", main, health, bad);
            ProtocolException e = assertThrows(ProtocolException.class, c::validate);
            assertEquals(ReasonCode.INVALID_FIELD, e.reason());
            assertTrue(e.getMessage().contains("fallback"), e.getMessage());
        }
        Command rollback = new Command(1, "id", NOW, Command.Type.ROLLBACK, "dep-1", null, null, "r", null, null, null,
                null, null, null, null, null, light);
        assertThrows(ProtocolException.class, rollback::validate);
    }

    @Test
    void telemetryModesAreOptionalAndValidated() {
        TelemetryWindow old = new TelemetryWindow(1, "w1", NOW, "dev-1", 1, NOW - 1000, NOW, null, 0, 0, null, null,
                null, 0, false);
        assertNull(codec.decode(codec.encode(old), TelemetryWindow.class).modes());
        ModeTimes m = new ModeTimes(1.0, 8.5, 0.5, 20, 5, 0.25, "light");
        TelemetryWindow w = new TelemetryWindow(1, "w2", NOW, "dev-1", 2, NOW - 10_000, NOW, null, 20, 0, null, null,
                null, 0, false, null, null, null, null, m);
        TelemetryWindow back = codec.decode(codec.encode(w), TelemetryWindow.class);
        assertEquals(m, back.modes());
        assertEquals(m, back.asReplay(1L).modes());
        for (ModeTimes bad : new ModeTimes[] {new ModeTimes(-1, 0, 0, 0, 0, null, "full"),
                new ModeTimes(0, 0, 0, 3, 4, null, "cascade"), new ModeTimes(0, 0, 0, 3, 1, 1.5, "cascade"),
                new ModeTimes(0, 0, 0, 0, 0, null, "turbo")}) {
            TelemetryWindow t = new TelemetryWindow(1, "w3", NOW, "dev-1", 3, NOW - 10_000, NOW, null, 0, 0, null, null,
                    null, 0, false, null, null, null, null, bad);
            assertEquals(ReasonCode.INVALID_FIELD, assertThrows(ProtocolException.class, t::validate).reason());
        }
    }
}
