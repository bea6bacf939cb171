package io.edgefleet.protocol;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Splits an artifact into fixed-size chunks and builds the (unsigned) manifest that describes them. */
public final class ArtifactChunker {
    private ArtifactChunker() {
    }

    public static ArtifactManifest manifest(String classId, ModelRef model, byte[] artifact, int chunkSize) {
        if (chunkSize < ArtifactManifest.MIN_CHUNK || chunkSize > ArtifactManifest.MAX_CHUNK) {
            throw new IllegalArgumentException("chunk size out of range: " + chunkSize);
        }
        List<String> hashes = new ArrayList<>();
        for (int off = 0; off < artifact.length; off += chunkSize) {
            hashes.add(Hashing.sha256Hex(artifact, off, Math.min(chunkSize, artifact.length - off)));
        }
        return new ArtifactManifest(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                classId, model, artifact.length, chunkSize, List.copyOf(hashes), null, null);
    }

    public static byte[] chunk(byte[] artifact, int chunkSize, int index) {
        int from = index * chunkSize;
        if (index < 0 || from >= artifact.length) {
            throw new IndexOutOfBoundsException("chunk " + index + " outside artifact");
        }
        return Arrays.copyOfRange(artifact, from, Math.min(artifact.length, from + chunkSize));
    }
}
