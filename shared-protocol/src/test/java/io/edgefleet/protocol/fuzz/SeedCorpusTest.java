package io.edgefleet.protocol.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.ArtifactChunker;
import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.ArtifactRef;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The fuzz seed corpus is built in code: {@code -Dfuzz.writeSeeds=true} rewrites it from the records
 * below; a normal run checks that every checked-in seed is still a valid input of its target, so the
 * seeds start the fuzzer inside the parser rather than at its first refusal.
 */
class SeedCorpusTest {
    static final Path ROOT = Path.of("src/test/resources/io/edgefleet/protocol/fuzz/ProtocolFuzzTestInputs");
    private static final JsonCodec CODEC = new JsonCodec();

    static Map<String, Map<String, byte[]>> seeds() throws IOException {
        KeyPair kp = ManifestSigner.generateKeyPair();
        ManifestSigner signer = new ManifestSigner(kp.getPrivate(), kp.getPublic());
        byte[] artifact = new byte[3000];
        for (int i = 0; i < artifact.length; i++) {
            artifact[i] = (byte) (i * 31);
        }
        ModelRef ref = new ModelRef("kws", 3, Hashing.sha256Hex(artifact));
        ArtifactRef art = new ArtifactRef("pi4", ref, artifact.length, Topics.manifest("pi4", ref.sha256()));
        long exp = 4_102_444_800_000L;
        Map<String, Map<String, byte[]>> m = new LinkedHashMap<>();
        m.put("command", Map.of(
                "deploy.json", CODEC.encode(signer.sign(Command.deploy("dep-1", art, new HealthPolicy(25, 0.05, 2, 5)), "dev-1", exp)),
                "rollback.json", CODEC.encode(signer.sign(Command.rollback("dep-1", "bad canary"), "dev-1", exp)),
                "config.json", CODEC.encode(signer.sign(Command.config(Map.of("telemetryWindowSeconds", "5")), "dev-1", exp))));
        m.put("deviceEvent", Map.of("rolled-back.json", CODEC.encode(DeviceEvent.of("dev-1", DeviceEvent.Type.ROLLED_BACK,
                "dep-1", ref, ReasonCode.LATENCY_SLO_BREACH, "p95 31.0 ms > SLO 25.0 ms").withProgress(0.5))));
        m.put("deviceStatus", Map.of("online.json", CODEC.encode(DeviceStatus.of("dev-1", DeviceStatus.State.ONLINE, ref, null, "0.1.0"))));
        m.put("telemetryWindow", Map.of("window.json", CODEC.encode(new TelemetryWindow(Protocol.VERSION, "w-1", 1_700_000_000_000L,
                "dev-1", 7, 1_699_999_990_000L, 1_700_000_000_000L, ref, 250, 2, new LatencyStats(4, 9.5, 12, 20, 5), 0.8, 0.02, 0, false))));
        m.put("artifactManifest", Map.of("manifest.json", CODEC.encode(signer.sign(ArtifactChunker.manifest("pi4", ref, artifact, 1024)))));
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("input", NpyArray.ofFloats(new float[] {0.5f, -1f, 2f, 0f}, 2, 2));
        arrays.put("labels", NpyArray.ofLongs(new long[] {1, 0}, 2));
        Path tmp = Files.createTempFile("seed", ".npz");
        Npz.write(tmp, arrays);
        m.put("npz", Map.of("two-arrays.npz", Files.readAllBytes(tmp)));
        Files.delete(tmp);
        return m;
    }

    @Test
    void everyCheckedInSeedIsAValidInputOfItsTarget() throws IOException {
        if (Boolean.getBoolean("fuzz.writeSeeds")) {
            for (var target : seeds().entrySet()) {
                Path dir = Files.createDirectories(ROOT.resolve(target.getKey()));
                for (var seed : target.getValue().entrySet()) {
                    Files.write(dir.resolve(seed.getKey()), seed.getValue());
                }
            }
        }
        Map<String, Class<? extends Message>> kinds = Map.of("command", Command.class, "deviceEvent", DeviceEvent.class,
                "deviceStatus", DeviceStatus.class, "telemetryWindow", TelemetryWindow.class,
                "artifactManifest", ArtifactManifest.class);
        for (var kind : kinds.entrySet()) {
            List<Path> files = list(ROOT.resolve(kind.getKey()));
            assertFalse(files.isEmpty(), "seeds for " + kind.getKey());
            for (Path f : files) {
                CODEC.decode(Files.readAllBytes(f), kind.getValue());
            }
        }
        List<Path> npz = list(ROOT.resolve("npz"));
        assertEquals(1, npz.size());
        assertTrue(Npz.read(npz.get(0)).containsKey("labels"));
    }

    /**
     * The valid seeds of a target: its {@code crash-*} files are findings kept as regression inputs (invalid on
     * purpose; the fuzz test itself replays them), not seeds.
     */
    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("crash-"))
                    .sorted().toList();
        }
    }
}
