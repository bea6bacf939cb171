package io.edgefleet.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.drift.DriftReport;
import io.edgefleet.protocol.drift.FeatureDrift;
import io.edgefleet.protocol.drift.FeatureProfile;
import io.edgefleet.protocol.drift.ReferenceProfile;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The energy and drift fields added to TelemetryWindow and ArtifactManifest: compatible, validated, signed. */
class DriftEnergyFieldsTest {
    private static final String SHA = "b".repeat(64);
    private final JsonCodec codec = new JsonCodec();

    private static ReferenceProfile profile(double mean) {
        FeatureProfile f = new FeatureProfile("x.mean", "mean", "x", null, new double[] {0, 0.5, 1},
                new double[] {0, 0.5, 0.5, 0}, mean, null);
        return new ReferenceProfile("validation", 100, List.of(f), null, null);
    }

    @Test
    void anOldAgentsWindowWithoutTheNewFieldsStillParses() {
        String old = "{\"v\":1,\"id\":\"m1\",\"ts\":10,\"deviceId\":\"dev-1\",\"seq\":3,\"windowStart\":1000,"
                + "\"windowEnd\":11000,\"inferences\":5,\"errors\":0,\"energyMj\":1.5,\"dropped\":0,\"replayed\":false}";
        TelemetryWindow w = codec.decode(old.getBytes(StandardCharsets.UTF_8), TelemetryWindow.class);
        assertEquals(1.5, w.energyMj());
        assertNull(w.energySource());
        assertNull(w.energyJoules());
        assertNull(w.driftDetail());
    }

    @Test
    void newFieldsRoundTripAndSurviveReplay() {
        DriftReport d = new DriftReport(0.31, 0.2, -0.05, "self", 200, List.of(new FeatureDrift("x.mean", 0.31, 0.2)));
        TelemetryWindow w = new TelemetryWindow(1, "m1", 10, "dev-1", 7, 1000, 11000, null, 100, 1, null, 0.4, 0.31, 0,
                false, null, "rapl", 12.5, d);
        TelemetryWindow back = codec.decode(codec.encode(w), TelemetryWindow.class);
        assertEquals(w, back);
        TelemetryWindow replay = back.asReplay(null);
        assertTrue(replay.replayed());
        assertEquals(d, replay.driftDetail());
        assertEquals("rapl", replay.energySource());
        assertEquals(w.id(), replay.id());
    }

    @Test
    void badEnergyAndDriftFieldsAreRefused() {
        TelemetryWindow badSource = new TelemetryWindow(1, "m1", 10, "dev-1", 7, 1000, 11000, null, 1, 0, null, null,
                null, 0, false, null, "battery", null, null);
        assertEquals(ReasonCode.INVALID_FIELD, assertThrows(ProtocolException.class, badSource::validate).reason());
        TelemetryWindow negative = new TelemetryWindow(1, "m1", 10, "dev-1", 7, 1000, 11000, null, 1, 0, null, null,
                null, 0, false, null, "model", -1.0, null);
        assertThrows(ProtocolException.class, negative::validate);
        TelemetryWindow badJs = new TelemetryWindow(1, "m1", 10, "dev-1", 7, 1000, 11000, null, 1, 0, null, null,
                null, 0, false, null, null, null, new DriftReport(0.1, 1.5, null, "self", 1, List.of()));
        assertThrows(ProtocolException.class, badJs::validate);
    }

    @Test
    void profileAndPowerModelAreSignedAndAnOldManifestStillVerifies() {
        KeyPair kp = ManifestSigner.generateKeyPair();
        ManifestSigner signer = new ManifestSigner(kp.getPrivate(), kp.getPublic());
        var verifier = new ManifestSigner.Verifier(List.of(kp.getPublic()));
        byte[] artifact = new byte[3000];
        ArtifactManifest plain = ArtifactChunker.manifest("gw", new ModelRef("m", 1, SHA), artifact, 1024);

        ArtifactManifest old = signer.sign(plain);
        verifier.verify(codec.decode(codec.encode(old), ArtifactManifest.class));
        assertTrue(!new String(codec.encode(old), StandardCharsets.UTF_8).contains("referenceProfile"));

        ArtifactManifest full = signer.sign(plain.withExtras(profile(0.5), new PowerModel(2.7, 6.4)));
        ArtifactManifest decoded = codec.decode(codec.encode(full), ArtifactManifest.class);
        verifier.verify(decoded);
        assertEquals(full.referenceProfile(), decoded.referenceProfile());
        assertEquals(6.4, decoded.power().activeWatts());

        for (ArtifactManifest tampered : List.of(
                decoded.withExtras(profile(0.6), decoded.power()),
                decoded.withExtras(null, decoded.power()),
                decoded.withExtras(decoded.referenceProfile(), new PowerModel(2.7, 9.9)),
                decoded.withExtras(decoded.referenceProfile(), null))) {
            assertEquals(ReasonCode.SIGNATURE_INVALID,
                    assertThrows(ProtocolException.class, () -> verifier.verify(tampered)).reason());
        }
    }

    @Test
    void malformedOrOversizedProfilesInAManifestAreRefused() {
        byte[] artifact = new byte[3000];
        ArtifactManifest plain = ArtifactChunker.manifest("gw", new ModelRef("m", 1, SHA), artifact, 1024)
                .withSignature("k", "s");
        List<FeatureProfile> many = new ArrayList<>();
        for (int i = 0; i <= ReferenceProfile.MAX_FEATURES; i++) {
            many.add(new FeatureProfile("f" + i, "mean", "x", null, new double[] {0, 1}, new double[] {0, 1, 0}, 0, null));
        }
        ArtifactManifest tooMany = plain.withExtras(new ReferenceProfile("validation", 1, many, null, null), null);
        assertEquals(ReasonCode.INVALID_FIELD, assertThrows(ProtocolException.class, tooMany::validate).reason());
        ArtifactManifest badPower = plain.withExtras(null, new PowerModel(5, 1));
        assertThrows(ProtocolException.class, badPower::validate);
    }
}
