package io.edgefleet.agent.update;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.update.ArtifactDownload.ChunkResult;
import io.edgefleet.protocol.ArtifactChunker;
import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.ModelRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactDownloadTest {
    static final int CHUNK = 1024;

    @TempDir
    Path dir;

    final byte[] artifact = new byte[CHUNK * 4 + 100];
    {
        new Random(1).nextBytes(artifact);
    }

    ArtifactManifest manifest() {
        return ArtifactChunker.manifest("gw", new ModelRef("m", 1, Hashing.sha256Hex(artifact)), artifact, CHUNK);
    }

    byte[] chunk(int i) {
        return ArtifactChunker.chunk(artifact, CHUNK, i);
    }

    @Test
    void assemblesOutOfOrderWithDuplicatesAndAShortLastChunk() throws Exception {
        try (ArtifactDownload d = new ArtifactDownload(manifest(), dir.resolve("x.part"))) {
            assertEquals(5, d.total());
            for (int i : new int[] {4, 2, 0}) {
                assertEquals(ChunkResult.ACCEPTED, d.accept(i, chunk(i)));
            }
            assertEquals(ChunkResult.DUPLICATE, d.accept(2, chunk(2)));
            assertEquals(List.of(1, 3), d.missing());
            assertEquals(0.6, d.fraction(), 1e-9);
            assertThrows(IllegalStateException.class, d::finish, "not complete yet");
            d.accept(3, chunk(3));
            d.accept(1, chunk(1));
            assertTrue(d.complete());
            assertEquals(Hashing.sha256Hex(artifact), d.finish());
            assertArrayEquals(artifact, Files.readAllBytes(dir.resolve("x.part")));
        }
    }

    @Test
    void aDamagedChunkIsNotWrittenAndIsRememberedUntilAGoodCopyArrives() throws Exception {
        try (ArtifactDownload d = new ArtifactDownload(manifest(), dir.resolve("x.part"))) {
            byte[] bad = chunk(1).clone();
            bad[100] ^= 0x01;
            assertEquals(ChunkResult.HASH_MISMATCH, d.accept(1, bad));
            assertEquals(List.of(1), d.failedChunks());
            assertEquals(0, d.received());
            assertEquals(ChunkResult.ACCEPTED, d.accept(1, chunk(1)));
            assertEquals(List.of(), d.failedChunks());
        }
    }

    @Test
    void indexAndLengthAreCheckedBeforeTheHash() throws Exception {
        try (ArtifactDownload d = new ArtifactDownload(manifest(), dir.resolve("x.part"))) {
            assertEquals(ChunkResult.OUT_OF_RANGE, d.accept(5, chunk(0)));
            assertEquals(ChunkResult.OUT_OF_RANGE, d.accept(-1, chunk(0)));
            assertEquals(ChunkResult.WRONG_SIZE, d.accept(4, chunk(0)), "last chunk is 100 bytes");
            assertEquals(ChunkResult.WRONG_SIZE, d.accept(0, new byte[0]));
            assertFalse(d.complete());
        }
    }

    @Test
    void aChunkWithTheRightHashAtTheWrongIndexIsRefused() throws Exception {
        try (ArtifactDownload d = new ArtifactDownload(manifest(), dir.resolve("x.part"))) {
            assertEquals(ChunkResult.HASH_MISMATCH, d.accept(0, chunk(1)));
        }
    }

    @Test
    void resumingKeepsTheIntactChunksOfAPartFileAndNotATornOne() throws Exception {
        Path part = dir.resolve("r.part");
        try (ArtifactDownload first = new ArtifactDownload(manifest(), part)) {
            first.accept(0, chunk(0));
            first.accept(2, chunk(2));
            first.accept(4, chunk(4));
        }
        // A crash in the middle of writing chunk 1: only its first half is on disk.
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(part, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(chunk(1), 0, CHUNK / 2), CHUNK);
        }
        try (ArtifactDownload resumed = new ArtifactDownload(manifest(), part, true)) {
            assertEquals(3, resumed.received());
            assertEquals(List.of(1, 3), resumed.missing());
            assertEquals(1, resumed.nextMissing(0));
            assertEquals(3, resumed.nextMissing(2));
            assertEquals(ChunkResult.DUPLICATE, resumed.accept(2, chunk(2)));
            resumed.accept(1, chunk(1));
            resumed.accept(3, chunk(3));
            assertEquals(-1, resumed.nextMissing(0));
            assertEquals(Hashing.sha256Hex(artifact), resumed.finish());
        }
        try (ArtifactDownload fresh = new ArtifactDownload(manifest(), part)) {
            assertEquals(0, fresh.received(), "without resume the part file starts empty");
        }
    }
}
