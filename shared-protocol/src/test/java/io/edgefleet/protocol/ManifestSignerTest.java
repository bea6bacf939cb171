package io.edgefleet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ManifestSignerTest {
    private final KeyPair current = ManifestSigner.generateKeyPair();
    private final KeyPair next = ManifestSigner.generateKeyPair();
    private final byte[] artifact = new byte[5000];

    ManifestSignerTest() {
        new Random(1).nextBytes(artifact);
    }

    private ArtifactManifest signed(KeyPair kp) {
        ModelRef ref = new ModelRef("m", 1, Hashing.sha256Hex(artifact));
        return new ManifestSigner(kp.getPrivate(), kp.getPublic()).sign(ArtifactChunker.manifest("gw", ref, artifact, 1024));
    }

    @Test
    void verifiesWithEitherPinnedKeyAndSurvivesJson() {
        var verifier = new ManifestSigner.Verifier(List.of(current.getPublic(), next.getPublic()));
        JsonCodec codec = new JsonCodec();
        ArtifactManifest a = codec.decode(codec.encode(signed(current)), ArtifactManifest.class);
        ArtifactManifest b = codec.decode(codec.encode(signed(next)), ArtifactManifest.class);
        verifier.verify(a);
        verifier.verify(b);
        assertEquals(5, a.chunkCount());
        assertEquals(Hashing.sha256Hex(ArtifactChunker.chunk(artifact, 1024, 4)), a.chunks().get(4));
    }

    @Test
    void refusesUnpinnedKeyAndAnyTamperedField() {
        var verifier = new ManifestSigner.Verifier(List.of(current.getPublic()));
        assertEquals(ReasonCode.SIGNATURE_INVALID,
                assertThrows(ProtocolException.class, () -> verifier.verify(signed(next))).reason());
        ArtifactManifest m = signed(current);
        List<String> chunks = new ArrayList<>(m.chunks());
        chunks.set(0, "f".repeat(64));
        ArtifactManifest tampered = new ArtifactManifest(m.v(), m.id(), m.ts(), m.classId(), m.model(), m.size(),
                m.chunkSize(), chunks, m.keyId(), m.signature());
        assertEquals(ReasonCode.SIGNATURE_INVALID,
                assertThrows(ProtocolException.class, () -> verifier.verify(tampered)).reason());
        ArtifactManifest bigger = new ArtifactManifest(m.v(), m.id(), m.ts(), m.classId(), m.model(), m.size() + 1,
                m.chunkSize(), m.chunks(), m.keyId(), m.signature());
        assertThrows(ProtocolException.class, () -> verifier.verify(bigger));
        ArtifactManifest garbage = m.withSignature(m.keyId(), "%%%not-base64");
        assertEquals(ReasonCode.SIGNATURE_INVALID,
                assertThrows(ProtocolException.class, () -> verifier.verify(garbage)).reason());
    }

    @Test
    void keysRoundTripThroughTheirTextForm() {
        var pub = ManifestSigner.decodePublic(ManifestSigner.encodePublic(current.getPublic()));
        var priv = ManifestSigner.decodePrivate(ManifestSigner.encodePrivate(current.getPrivate()));
        new ManifestSigner.Verifier(List.of(pub)).verify(new ManifestSigner(priv, pub).sign(signed(current)));
        assertThrows(IllegalArgumentException.class, () -> ManifestSigner.decodePublic("bm9wZQ=="));
    }
}
