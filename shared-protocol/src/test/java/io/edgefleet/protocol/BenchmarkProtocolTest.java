package io.edgefleet.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The BENCHMARK command's fields are signed; its report and the capture upload parse, validate and refuse. */
class BenchmarkProtocolTest {
    private static final long NOW = 1_800_000_000_000L;
    private final KeyPair key = ManifestSigner.generateKeyPair();
    private final ManifestSigner signer = new ManifestSigner(key.getPrivate(), key.getPublic());
    private final ManifestSigner.Verifier verifier = new ManifestSigner.Verifier(List.of(key.getPublic()));
    private final JsonCodec codec = new JsonCodec();
    private final ArtifactRef art = new ArtifactRef("gw", new ModelRef("m", 2, "a".repeat(64)), 100,
            Topics.manifest("gw", "a".repeat(64)));

    private static ReasonCode refusal(Runnable r) {
        return assertThrows(ProtocolException.class, r::run).reason();
    }

    @Test
    void benchmarkFieldsAreCoveredBySignedBytes() {
        Command s = codec.decode(codec.encode(signer.sign(Command.benchmark("job-1", art, 5, 100, 1), "dev-1", NOW + 1000)),
                Command.class);
        verifier.verify(s, "dev-1", NOW);
        assertEquals(5, s.benchmarkSeconds());
        for (Command t : List.of(
                new Command(s.v(), s.id(), s.ts(), s.type(), s.deploymentId(), s.artifact(), null, null, null, s.deviceId(),
                        s.expiresAt(), s.keyId(), s.signature(), 60, 100, 1),
                new Command(s.v(), s.id(), s.ts(), s.type(), s.deploymentId(), s.artifact(), null, null, null, s.deviceId(),
                        s.expiresAt(), s.keyId(), s.signature(), 5, 1_000_000, 1),
                new Command(s.v(), s.id(), s.ts(), s.type(), s.deploymentId(), s.artifact(), null, null, null, s.deviceId(),
                        s.expiresAt(), s.keyId(), s.signature(), 5, 100, 8),
                // a DEPLOY signature cannot be turned into a benchmark and back: the type and fields are signed
                new Command(s.v(), s.id(), s.ts(), Command.Type.DEPLOY, s.deploymentId(), s.artifact(), null, null, null,
                        s.deviceId(), s.expiresAt(), s.keyId(), s.signature(), 5, 100, 1))) {
            assertEquals(ReasonCode.SIGNATURE_INVALID, refusal(() -> verifier.verify(t, "dev-1", NOW)), t.toString());
        }
    }

    @Test
    void theBenchmarkIntervalIsSignedAndAnUnpacedBenchmarkSignsAsBefore() {
        Command paced = codec.decode(codec.encode(signer.sign(Command.benchmark("job-1", art, 5, null, 1, 20), "dev-1",
                NOW + 1000)), Command.class);
        verifier.verify(paced, "dev-1", NOW);
        assertEquals(20, paced.benchmarkIntervalMs());
        for (Integer other : java.util.Arrays.asList(null, 0, 21)) {
            Command t = new Command(paced.v(), paced.id(), paced.ts(), paced.type(), paced.deploymentId(),
                    paced.artifact(), null, null, null, paced.deviceId(), paced.expiresAt(), paced.keyId(),
                    paced.signature(), 5, null, 1, null, other);
            assertEquals(ReasonCode.SIGNATURE_INVALID, refusal(() -> verifier.verify(t, "dev-1", NOW)), "" + other);
        }
        Command unpaced = Command.benchmark("job-2", art, 5, null, 1).addressedTo("dev-1", NOW);
        Command older = new Command(unpaced.v(), unpaced.id(), unpaced.ts(), unpaced.type(), unpaced.deploymentId(),
                unpaced.artifact(), null, null, null, "dev-1", NOW, null, null, 5, null, 1, null);
        assertArrayEquals(older.signedBytes(), unpaced.signedBytes());
        assertEquals(false, new String(codec.encode(unpaced), StandardCharsets.UTF_8).contains("Interval"),
                "no null field on the wire");
    }

    @Test
    void olderCommandsSignExactlyAsBefore() {
        Command deploy = Command.deploy("dep-1", art, new HealthPolicy(25, 0.1, 2, 5)).addressedTo("dev-1", NOW);
        Command same = new Command(deploy.v(), deploy.id(), deploy.ts(), deploy.type(), deploy.deploymentId(),
                deploy.artifact(), deploy.health(), null, null, "dev-1", NOW, null, null, null, null, null);
        assertArrayEquals(deploy.signedBytes(), same.signedBytes());
        String text = new String(deploy.signedBytes(), StandardCharsets.UTF_8);
        assertEquals(false, text.contains("benchmark"));
    }

    @Test
    void benchmarkValidation() {
        assertEquals(ReasonCode.MISSING_FIELD, refusal(() -> Command.benchmark("j", art, null, null, null).validate()));
        assertEquals(ReasonCode.MISSING_FIELD, refusal(() -> Command.benchmark("j", null, 5, null, null).validate()));
        assertEquals(ReasonCode.INVALID_FIELD, refusal(() -> Command.benchmark("j", art, 0, null, null).validate()));
        assertEquals(ReasonCode.INVALID_FIELD, refusal(() -> Command.benchmark("j", art, 601, null, null).validate()));
        assertEquals(ReasonCode.INVALID_FIELD, refusal(() -> Command.benchmark("j", art, 5, null, 0).validate()));
        Command.benchmark("j", art, null, 10, 2).validate();
        assertEquals(ReasonCode.INVALID_FIELD, refusal(() -> Command.benchmark("j", art, 5, null, 1, -1).validate()));
        assertEquals(ReasonCode.INVALID_FIELD, refusal(() -> Command.benchmark("j", art, 5, null, 1,
                Command.MAX_BENCHMARK_INTERVAL_MS + 1).validate()));
        Command.benchmark("j", art, 5, null, 1, 0).validate();
        Command.benchmark("j", art, 5, null, 1, Command.MAX_BENCHMARK_INTERVAL_MS).validate();
    }

    @Test
    void reportsRoundTripAndRefuseNonsense() {
        BenchmarkReport ok = BenchmarkReport.completed("dev-1", "job-1", art.model(), 200, 1, 2.5,
                new LatencyStats(1, 2, 3, 4, 1.5), 0.8, "rapl");
        assertEquals(ok, codec.decode(codec.encode(ok), BenchmarkReport.class));
        BenchmarkReport refused = BenchmarkReport.failed("dev-1", "job-1", art.model(), BenchmarkReport.Status.REFUSED,
                ReasonCode.BENCHMARK_BUSY, "busy");
        assertEquals(refused, codec.decode(codec.encode(refused), BenchmarkReport.class));
        String noLatency = "{\"v\":1,\"id\":\"x\",\"ts\":5,\"deviceId\":\"d\",\"jobId\":\"j\",\"status\":\"COMPLETED\","
                + "\"model\":{\"model\":\"m\",\"version\":1,\"sha256\":\"" + "a".repeat(64) + "\"},\"inferences\":3}";
        assertEquals(ReasonCode.MISSING_FIELD, refusal(() -> codec.decode(noLatency.getBytes(StandardCharsets.UTF_8),
                BenchmarkReport.class)));
        CaptureUpload up = CaptureUpload.of("dev-1", art.model(), 3, "UEsDBA==");
        assertEquals(up, codec.decode(codec.encode(up), CaptureUpload.class));
        assertEquals(ReasonCode.INVALID_FIELD, refusal(() -> CaptureUpload.of("dev-1", art.model(), 0, "x").validate()));
        assertEquals(Topics.Kind.BENCHMARK, Topics.parse(Topics.benchmark("dev-1")).orElseThrow().kind());
        assertEquals(Topics.Kind.CAPTURE, Topics.parse(Topics.capture("dev-1")).orElseThrow().kind());
        assertEquals("edgefleet/v1/devices/+/capture", Topics.allDevices(Topics.Kind.CAPTURE));
    }
}
