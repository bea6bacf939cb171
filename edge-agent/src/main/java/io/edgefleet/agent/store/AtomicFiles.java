package io.edgefleet.agent.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe file replacement: write a temp file next to the target, fsync it, rename it over the
 * target atomically, fsync the directory. After a power cut a reader sees either the old or the new
 * content, never a torn file.
 */
public final class AtomicFiles {
    private static volatile DiskFaults faults = DiskFaults.NONE;

    private AtomicFiles() {
    }

    /** Installs a fault injector for every write, move and delete below (tests only); null restores the real disk. */
    public static void injectFaults(DiskFaults f) {
        faults = f == null ? DiskFaults.NONE : f;
    }

    /** For writers that keep their own channel open (the artifact download): the same fault check. */
    public static void checkWrite(Path target) throws IOException {
        faults.check("write", target);
    }

    /** For deletes done with plain {@code Files} calls (stray-file cleanup): the same fault check. */
    public static void checkDelete(Path target) throws IOException {
        faults.check("delete", target);
    }

    public static void write(Path target, byte[] data) throws IOException {
        faults.check("write", target);
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(dir);
    }

    /** Renames {@code from} over {@code to} atomically (same directory or file system) and makes it durable. */
    public static void move(Path from, Path to) throws IOException {
        faults.check("move", to);
        fsync(from);
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(to.toAbsolutePath().getParent());
        Path fromDir = from.toAbsolutePath().getParent();
        if (!fromDir.equals(to.toAbsolutePath().getParent())) {
            syncDirectory(fromDir);
        }
    }

    public static void deleteDurably(Path file) throws IOException {
        faults.check("delete", file);
        if (Files.deleteIfExists(file)) {
            syncDirectory(file.toAbsolutePath().getParent());
        }
    }

    public static void fsync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Makes a rename durable. Not every platform can open a directory; there the rename is as durable as it gets. */
    public static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows and some file systems refuse to open directories; nothing more to do there.
        }
    }
}
