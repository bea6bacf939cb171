package io.edgefleet.server.model;

import io.edgefleet.protocol.Topics;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.config.DataDir;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import io.edgefleet.protocol.Hashing;

/**
 * Content-addressed artifact storage: {@code blobs/sha256/ab/abcdef...}. Uploads are streamed to a
 * temp file in the same file system (bounded, hashed on the way), and only a complete, validated
 * file is moved into place atomically, so a reader never sees a partial blob.
 */
@ApplicationScoped
public class BlobStore {
    private final Path root;
    private final Path tmp;

    @Inject
    public BlobStore(DataDir dataDir) {
        this(dataDir.directory("blobs"));
    }

    public BlobStore(Path blobRoot) {
        this.root = blobRoot.resolve("sha256");
        this.tmp = blobRoot.resolve("tmp");
        try {
            Files.createDirectories(root);
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create blob store in " + blobRoot, e);
        }
    }

    /** A file staged for storage: where it is, how big, and what it hashes to. */
    public record Staged(Path file, long size, String sha256) {
    }

    /** Thrown when a stream exceeds the allowed size; nothing is left on disk. */
    public static final class TooLargeException extends IOException {
        public TooLargeException(long limit) {
            super("more than " + limit + " bytes");
        }
    }

    /**
     * The common first step of every upload: check the name it will be stored under, then stage the body
     * with a bound, answering with the API's errors (400 bad name, 413 over {@code limitKey}'s limit).
     */
    public Staged stageUpload(String kind, String name, InputStream body, Long declaredLength, long limit,
                              String limitKey) {
        if (!Topics.isId(name)) {
            throw new ApiException(ErrorCode.INVALID_ID, kind + " name '" + name + "' is invalid: use 1-64 characters"
                    + " from A-Z a-z 0-9 . _ -, starting with a letter or digit");
        }
        if (declaredLength != null && declaredLength > limit) {
            throw tooLarge(declaredLength + " bytes", limit, limitKey);
        }
        try {
            return stage(body, limit);
        } catch (TooLargeException e) {
            throw tooLarge("more than " + limit + " bytes", limit, limitKey);
        } catch (IOException e) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, "the upload was interrupted: " + e.getMessage(), e);
        }
    }

    private static ApiException tooLarge(String what, long limit, String limitKey) {
        return new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "the upload is " + what + "; the limit is " + limit
                + " bytes (" + limitKey + ")");
    }

    /** Copies at most {@code maxBytes} from {@code in} into a temp file; deletes it again on any failure. */
    public Staged stage(InputStream in, long maxBytes) throws IOException {
        Path file = Files.createTempFile(tmp, "upload-", ".part");
        MessageDigest md = Hashing.sha256();
        long total = 0;
        boolean ok = false;
        try (OutputStream out = Files.newOutputStream(file)) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                total += n;
                if (total > maxBytes) {
                    throw new TooLargeException(maxBytes);
                }
                md.update(buf, 0, n);
                out.write(buf, 0, n);
            }
            ok = true;
        } finally {
            if (!ok) {
                Files.deleteIfExists(file);
            }
        }
        return new Staged(file, total, HexFormat.of().formatHex(md.digest()));
    }

    /**
     * Moves a staged file to its content address. Returns true when the blob is new, false when an
     * identical blob was already stored (the staged copy is then discarded).
     */
    public boolean commit(Staged staged) throws IOException {
        Path target = path(staged.sha256());
        if (Files.exists(target)) {
            Files.deleteIfExists(staged.file());
            return false;
        }
        Files.createDirectories(target.getParent());
        try {
            Files.move(staged.file(), target, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(staged.file());
            return false;
        }
    }

    public void discard(Staged staged) {
        try {
            Files.deleteIfExists(staged.file());
        } catch (IOException ignored) {
            // a leftover temp file is harmless and swept on the next start
        }
    }

    public void delete(String sha256) throws IOException {
        Files.deleteIfExists(path(sha256));
    }

    public Path path(String sha256) {
        if (!Topics.isSha(sha256)) {
            throw new IllegalArgumentException("not a sha256: " + sha256);
        }
        return root.resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    public boolean exists(String sha256) {
        return Files.isRegularFile(path(sha256));
    }

    public byte[] read(String sha256) throws IOException {
        return Files.readAllBytes(path(sha256));
    }

    /** Stores a text document (a report, a plan) as a UTF-8 blob and returns its sha256. */
    public String putText(String text) throws IOException {
        Staged staged = stage(new java.io.ByteArrayInputStream(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                Long.MAX_VALUE);
        commit(staged);
        return staged.sha256();
    }

    /** Removes temp files a crash may have left behind. */
    public void sweepTemp() throws IOException {
        try (var files = Files.list(tmp)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Number of stored blobs (for tests and diagnostics). */
    public long count() throws IOException {
        try (var files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    public long tempCount() throws IOException {
        try (var files = Files.list(tmp)) {
            return files.count();
        }
    }
}
