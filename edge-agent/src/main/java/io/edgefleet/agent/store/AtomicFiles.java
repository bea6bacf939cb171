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
    /**
     * Whether writes reach the disk before they return (fsync of file and directory). Always, for an agent on a
     * device. The simulator turns it off for its JVM: its thousands of simulated devices share one disk and one
     * kernel, a simulated power cut kills no page cache, and their fsyncs (four per telemetry window, tens of ms
     * each on a busy disk) became the limit of how many agents one machine could run (see docs/scale.md).
     * Atomicity (write a temp file, rename) stays either way.
     */
    private static volatile boolean durable = true;

    private AtomicFiles() {
    }

    /** Installs a fault injector for every write, move and delete below (tests only); null restores the real disk. */
    public static void injectFaults(DiskFaults f) {
        faults = f == null ? DiskFaults.NONE : f;
    }

    /** Turns fsync on (the default) or off for every write of this JVM; off only for simulated devices. */
    public static void durable(boolean on) {
        durable = on;
    }

    public static boolean durable() {
        return durable;
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
                if (durable) {
                    ch.force(true);
                }
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
        if (!durable) {
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Makes a rename durable. Not every platform can open a directory; there the rename is as durable as it gets. */
    public static void syncDirectory(Path dir) {
        if (!durable) {
            return;
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows and some file systems refuse to open directories; nothing more to do there.
        }
    }
}
