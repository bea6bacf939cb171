package io.edgefleet.agent.testing;

import io.edgefleet.protocol.ArtifactChunker;
import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.ArtifactRef;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Topics;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Plays the server's side of an artifact: signed manifest, chunks, deploy command. */
public final class Artifacts {
    public static final int CHUNK = 1024;

    public final KeyPair keys = ManifestSigner.generateKeyPair();
    public final ManifestSigner signer = new ManifestSigner(keys.getPrivate(), keys.getPublic());
    private final JsonCodec codec = new JsonCodec();

    /** Signs a command for one device, valid for an hour, as the server's gateway does. */
    public Command sign(Command c, String deviceId) {
        return signer.sign(c, deviceId, System.currentTimeMillis() + 3_600_000);
    }

    public String publicKeyBase64() {
        return ManifestSigner.encodePublic(keys.getPublic());
    }

    /** One published artifact. */
    public record Artifact(String classId, ModelRef model, byte[] bytes, ArtifactManifest manifest, byte[] manifestJson,
                           List<byte[]> chunks) {
        public String manifestTopic() {
            return Topics.manifest(classId, model.sha256());
        }

        public String chunkTopic(int i) {
            return Topics.chunk(classId, model.sha256(), i);
        }

        public ArtifactRef ref() {
            return new ArtifactRef(classId, model, bytes.length, manifestTopic());
        }

        public Command deploy(String deploymentId, HealthPolicy health) {
            return Command.deploy(deploymentId, ref(), health);
        }
    }

    public Artifact make(String classId, String name, long version, byte[] bytes) {
        return make(classId, name, version, bytes, signer);
    }

    public Artifact make(String classId, String name, long version, byte[] bytes, ManifestSigner by) {
        ModelRef ref = new ModelRef(name, version, Hashing.sha256Hex(bytes));
        ArtifactManifest m = by.sign(ArtifactChunker.manifest(classId, ref, bytes, CHUNK));
        List<byte[]> chunks = new ArrayList<>();
        for (int i = 0; i < m.chunkCount(); i++) {
            chunks.add(ArtifactChunker.chunk(bytes, CHUNK, i));
        }
        return new Artifact(classId, ref, bytes, m, codec.encode(m), chunks);
    }

    /** An artifact whose signed manifest also carries a drift reference profile and a class power model. */
    public Artifact make(String classId, String name, long version, byte[] bytes,
                         io.edgefleet.protocol.drift.ReferenceProfile profile, io.edgefleet.protocol.PowerModel power) {
        ModelRef ref = new ModelRef(name, version, Hashing.sha256Hex(bytes));
        ArtifactManifest m = signer.sign(ArtifactChunker.manifest(classId, ref, bytes, CHUNK).withExtras(profile, power));
        List<byte[]> chunks = new ArrayList<>();
        for (int i = 0; i < m.chunkCount(); i++) {
            chunks.add(ArtifactChunker.chunk(bytes, CHUNK, i));
        }
        return new Artifact(classId, ref, bytes, m, codec.encode(m), chunks);
    }

    public static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }
}
