package io.edgefleet.agent.update;

import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.Hashing;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.TreeSet;

/**
 * Assembles one artifact from chunks that arrive in any order, possibly twice, possibly damaged.
 * Every chunk is checked against the signed manifest (index range, length, SHA-256) before it is
 * written at its offset into the part file; bad chunks are discarded and remembered.
 */
public final class ArtifactDownload implements Closeable {

    /** What happened to one chunk. */
    public enum ChunkResult { ACCEPTED, DUPLICATE, OUT_OF_RANGE, WRONG_SIZE, HASH_MISMATCH }

    private final ArtifactManifest manifest;
    private final Path file;
    private final FileChannel channel;
    private final BitSet received;
    private final TreeSet<Integer> failed = new TreeSet<>();
    private int count;

    public ArtifactDownload(ArtifactManifest manifest, Path file) throws IOException {
        this(manifest, file, false);
    }

    /**
     * @param resume keep what the part file already holds: every chunk whose bytes there match its hash in the
     *               signed manifest counts as received (a chunk half-written when the agent died does not), so
     *               a download interrupted by a restart fetches only the rest
     */
    public ArtifactDownload(ArtifactManifest manifest, Path file, boolean resume) throws IOException {
        this.manifest = manifest;
        this.file = file;
        Files.createDirectories(file.toAbsolutePath().getParent());
        this.channel = resume
                ? FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ)
                : FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ,
                        StandardOpenOption.TRUNCATE_EXISTING);
        this.received = new BitSet(manifest.chunkCount());
        if (resume) {
            keepIntactChunks();
        }
    }

    private void keepIntactChunks() throws IOException {
        long onDisk = channel.size();
        ByteBuffer buf = ByteBuffer.allocate(manifest.chunkSize());
        for (int i = 0; i < total(); i++) {
            long from = (long) i * manifest.chunkSize();
            int len = (int) expectedLength(i);
            if (from + len > onDisk) {
                break;
            }
            buf.clear().limit(len);
            long pos = from;
            while (buf.hasRemaining()) {
                int n = channel.read(buf, pos);
                if (n < 0) {
                    break;
                }
                pos += n;
            }
            if (!buf.hasRemaining() && Hashing.sha256Hex(buf.array(), 0, len).equals(manifest.chunks().get(i))) {
                received.set(i);
                count++;
            }
        }
    }

    public ArtifactManifest manifest() {
        return manifest;
    }

    public Path file() {
        return file;
    }

    public int total() {
        return manifest.chunkCount();
    }

    public int received() {
        return count;
    }

    public double fraction() {
        return total() == 0 ? 1.0 : (double) count / total();
    }

    public boolean complete() {
        return count == total();
    }

    /** Indexes of chunks that arrived damaged and have not arrived intact since. */
    public List<Integer> failedChunks() {
        return new ArrayList<>(failed);
    }

    public List<Integer> missing() {
        List<Integer> out = new ArrayList<>();
        for (int i = received.nextClearBit(0); i < total(); i = received.nextClearBit(i + 1)) {
            out.add(i);
        }
        return out;
    }

    /** The lowest missing chunk index at or after {@code from}, or -1 when none is missing there. */
    public int nextMissing(int from) {
        int i = received.nextClearBit(Math.max(0, from));
        return i < total() ? i : -1;
    }

    /** Expected length of chunk {@code index}: the chunk size, except for a shorter last chunk. */
    long expectedLength(int index) {
        long from = (long) index * manifest.chunkSize();
        return Math.min(manifest.chunkSize(), manifest.size() - from);
    }

    public ChunkResult accept(int index, byte[] payload) throws IOException {
        if (index < 0 || index >= total()) {
            return ChunkResult.OUT_OF_RANGE;
        }
        if (received.get(index)) {
            return ChunkResult.DUPLICATE;
        }
        if (payload.length != expectedLength(index)) {
            failed.add(index);
            return ChunkResult.WRONG_SIZE;
        }
        if (!Hashing.sha256Hex(payload).equals(manifest.chunks().get(index))) {
            failed.add(index);
            return ChunkResult.HASH_MISMATCH;
        }
        io.edgefleet.agent.store.AtomicFiles.checkWrite(file);
        ByteBuffer buf = ByteBuffer.wrap(payload);
        long pos = (long) index * manifest.chunkSize();
        while (buf.hasRemaining()) {
            pos += channel.write(buf, pos);
        }
        received.set(index);
        failed.remove(index);
        count++;
        return ChunkResult.ACCEPTED;
    }

    /** Flushes the file to disk and returns the SHA-256 of the whole thing; call once complete. */
    public String finish() throws IOException {
        if (!complete()) {
            throw new IllegalStateException(missing().size() + " chunks still missing");
        }
        channel.truncate(manifest.size());
        channel.force(true);
        channel.close();
        return Hashing.sha256Hex(file);
    }

    @Override
    public void close() throws IOException {
        if (channel.isOpen()) {
            channel.close();
        }
    }
}
