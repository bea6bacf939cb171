package io.edgefleet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CommandSigningTest {
    private static final long NOW = 1_800_000_000_000L;
    private final KeyPair current = ManifestSigner.generateKeyPair();
    private final KeyPair next = ManifestSigner.generateKeyPair();
    private final ManifestSigner signer = new ManifestSigner(current.getPrivate(), current.getPublic());
    private final ManifestSigner.Verifier verifier = new ManifestSigner.Verifier(List.of(current.getPublic(), next.getPublic()));
    private final JsonCodec codec = new JsonCodec();
    private final ArtifactRef art = new ArtifactRef("gw", new ModelRef("m", 2, "a".repeat(64)), 100,
            Topics.manifest("gw", "a".repeat(64)));

    private Command deploy() {
        return Command.deploy("dep-1", art, new HealthPolicy(25, 0.1, 2, 5));
    }

    private static ReasonCode refusal(Runnable r) {
        return assertThrows(ProtocolException.class, r::run).reason();
    }

    @Test
    void everyKindVerifiesAfterJsonWithEitherPinnedKey() {
        ManifestSigner rotated = new ManifestSigner(next.getPrivate(), next.getPublic());
        for (Command c : List.of(deploy(), Command.rollback("dep-1", "halt"), Command.config(Map.of("telemetryWindowSeconds", "5")))) {
            for (ManifestSigner s : List.of(signer, rotated)) {
                Command signed = codec.decode(codec.encode(s.sign(c, "dev-1", NOW + 60_000)), Command.class);
                assertEquals("dev-1", signed.deviceId());
                assertEquals(s.keyId(), signed.keyId());
                verifier.verify(signed, "dev-1", NOW);
            }
        }
    }

    @Test
    void refusesUnsignedExpiredForeignAndUnpinned() {
        assertEquals(ReasonCode.COMMAND_UNSIGNED, refusal(() -> verifier.verify(deploy(), "dev-1", NOW)));
        Command signed = signer.sign(deploy(), "dev-1", NOW + 60_000);
        assertEquals(ReasonCode.COMMAND_EXPIRED, refusal(() -> verifier.verify(signed, "dev-1", NOW + 60_001)));
        verifier.verify(signed, "dev-1", NOW + 60_000);
        assertEquals(ReasonCode.COMMAND_FOREIGN, refusal(() -> verifier.verify(signed, "dev-2", NOW)));
        KeyPair stranger = ManifestSigner.generateKeyPair();
        Command foreignKey = new ManifestSigner(stranger.getPrivate(), stranger.getPublic()).sign(deploy(), "dev-1", NOW + 1000);
        assertEquals(ReasonCode.SIGNATURE_INVALID, refusal(() -> verifier.verify(foreignKey, "dev-1", NOW)));
    }

    @Test
    void anyChangedFieldBreaksTheSignature() {
        Command s = signer.sign(deploy(), "dev-1", NOW + 60_000);
        List<Command> tampered = List.of(
                new Command(s.v(), "other-id", s.ts(), s.type(), s.deploymentId(), s.artifact(), s.health(), s.reason(), s.config(), s.deviceId(), s.expiresAt(), s.keyId(), s.signature()),
                new Command(s.v(), s.id(), s.ts() + 1, s.type(), s.deploymentId(), s.artifact(), s.health(), s.reason(), s.config(), s.deviceId(), s.expiresAt(), s.keyId(), s.signature()),
                new Command(s.v(), s.id(), s.ts(), Command.Type.ROLLBACK, s.deploymentId(), s.artifact(), s.health(), s.reason(), s.config(), s.deviceId(), s.expiresAt(), s.keyId(), s.signature()),
                new Command(s.v(), s.id(), s.ts(), s.type(), "dep-2", s.artifact(), s.health(), s.reason(), s.config(), s.deviceId(), s.expiresAt(), s.keyId(), s.signature()),
                new Command(s.v(), s.id(), s.ts(), s.type(), s.deploymentId(), new ArtifactRef("gw", new ModelRef("m", 1, "a".repeat(64)), 100, art.manifestTopic()), s.health(), s.reason(), s.config(), s.deviceId(), s.expiresAt(), s.keyId(), s.signature()),
                new Command(s.v(), s.id(), s.ts(), s.type(), s.deploymentId(), s.artifact(), new HealthPolicy(1000, 1, 1, 0), s.reason(), s.config(), s.deviceId(), s.expiresAt(), s.keyId(), s.signature()),
                new Command(s.v(), s.id(), s.ts(), s.type(), s.deploymentId(), s.artifact(), s.health(), s.reason(), s.config(), s.deviceId(), s.expiresAt() + 86_400_000, s.keyId(), s.signature()),
                // Redirected to another device: the signature, not only the equality check, refuses it.
                new Command(s.v(), s.id(), s.ts(), s.type(), s.deploymentId(), s.artifact(), s.health(), s.reason(), s.config(), "dev-2", s.expiresAt(), s.keyId(), s.signature()));
        for (Command t : tampered) {
            assertEquals(ReasonCode.SIGNATURE_INVALID, refusal(() -> verifier.verify(t, t.deviceId(), NOW)), t.toString());
        }
        Command garbage = s.withSignature(s.keyId(), "%%%");
        assertEquals(ReasonCode.SIGNATURE_INVALID, refusal(() -> verifier.verify(garbage, "dev-1", NOW)));
    }

    @Test
    void freeTextCannotImitateAnotherField() {
        // Length prefixes keep "a\n" + "b" apart from "a" + "\nb".
        Command a = Command.config(Map.of("k", "x\n1:y")).addressedTo("dev-1", NOW);
        Command b = new Command(a.v(), a.id(), a.ts(), a.type(), a.deploymentId(), null, null, null,
                Map.of("k", "x", "y", ""), "dev-1", NOW, null, null);
        assertTrue(!new String(a.signedBytes(), StandardCharsets.UTF_8).equals(new String(b.signedBytes(), StandardCharsets.UTF_8)));
        Command signed = signer.sign(a, "dev-1", NOW);
        Command swapped = new Command(a.v(), a.id(), a.ts(), a.type(), null, null, null, null, b.config(), "dev-1", NOW,
                signed.keyId(), signed.signature());
        assertEquals(ReasonCode.SIGNATURE_INVALID, refusal(() -> verifier.verify(swapped, "dev-1", NOW)));
    }

    @Test
    void anOldServersUnsignedJsonStillParses() {
        String old = "{\"v\":1,\"id\":\"c-1\",\"ts\":5,\"type\":\"ROLLBACK\",\"deploymentId\":\"d\",\"reason\":\"r\"}";
        Command c = codec.decode(old.getBytes(StandardCharsets.UTF_8), Command.class);
        assertNull(c.signature());
        assertNull(c.expiresAt());
        assertEquals(ReasonCode.COMMAND_UNSIGNED, refusal(() -> verifier.verify(c, "dev-1", NOW)));
    }
}
