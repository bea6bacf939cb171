package io.edgefleet.agent.telemetry;

import io.edgefleet.agent.store.AtomicFiles;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ProtocolException;
import io.edgefleet.protocol.TelemetryWindow;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * On-disk FIFO of telemetry windows that could not be sent (promise 4). One small JSON file per
 * window, named by a local append counter so the directory listing is the order; bounded by
 * {@code max}: an overflow evicts the oldest window and counts it (plus whatever that window itself
 * reported as dropped) so the next window sent carries the loss in its {@code dropped} field.
 * Survives restarts, including the pending dropped count.
 */
public final class TelemetryBuffer {
    private static final System.Logger LOG = System.getLogger(TelemetryBuffer.class.getName());
    private static final String SUFFIX = ".json";
    private static final String DROPPED_FILE = "dropped";

    /** A buffered window and the file it lives in. */
    public record Entry(Path file, TelemetryWindow window) {
    }

    private final Path dir;
    private final int max;
    private final JsonCodec codec;
    private final Deque<Path> files = new ArrayDeque<>();
    private long nextIndex;
    private long dropped;

    public TelemetryBuffer(Path dir, int max, JsonCodec codec) throws IOException {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1");
        }
        this.dir = dir;
        this.max = max;
        this.codec = codec;
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> isWindowFile(p.getFileName().toString())).sorted().forEach(files::addLast);
        }
        nextIndex = files.isEmpty() ? 0 : index(files.peekLast()) + 1;
        try {
            dropped = Long.parseLong(Files.readString(dir.resolve(DROPPED_FILE), StandardCharsets.US_ASCII).trim());
        } catch (NoSuchFileException e) {
            dropped = 0;
        } catch (NumberFormatException e) {
            LOG.log(System.Logger.Level.WARNING, "unreadable dropped counter in " + dir + "; starting from 0");
            dropped = 0;
        }
        while (files.size() > max) {
            evictOldest();
        }
    }

    private static boolean isWindowFile(String name) {
        return name.endsWith(SUFFIX) && name.length() == 19 + SUFFIX.length() && name.chars().limit(19).allMatch(Character::isDigit);
    }

    private static long index(Path p) {
        return Long.parseLong(p.getFileName().toString().substring(0, 19));
    }

    public synchronized void append(TelemetryWindow w) throws IOException {
        while (files.size() >= max) {
            evictOldest();
        }
        Path f = dir.resolve(String.format("%019d%s", nextIndex++, SUFFIX));
        AtomicFiles.write(f, codec.encode(w));
        files.addLast(f);
    }

    /** The oldest window; an unreadable file is counted as dropped and skipped, never returned. */
    public synchronized Optional<Entry> peek() throws IOException {
        while (!files.isEmpty()) {
            Path f = files.peekFirst();
            try {
                return Optional.of(new Entry(f, codec.decode(Files.readAllBytes(f), TelemetryWindow.class)));
            } catch (NoSuchFileException e) {
                files.removeFirst();
            } catch (ProtocolException e) {
                LOG.log(System.Logger.Level.WARNING, "buffered telemetry " + f.getFileName() + " is unreadable ("
                        + e.getMessage() + "); counted as dropped");
                files.removeFirst();
                Files.deleteIfExists(f);
                addDropped(1);
            }
        }
        return Optional.empty();
    }

    /** Removes a window once the broker has acknowledged it. */
    public synchronized void remove(Entry e) throws IOException {
        if (files.remove(e.file())) {
            Files.deleteIfExists(e.file());
        }
    }

    public synchronized int size() {
        return files.size();
    }

    /** Windows lost to overflow (or damage) not yet reported; resets the count. */
    public synchronized long takeDropped() throws IOException {
        long d = dropped;
        if (d != 0) {
            dropped = 0;
            try {
                AtomicFiles.write(dir.resolve(DROPPED_FILE), "0".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                // The count is reported now either way; a stale file can only over-report after a restart.
                LOG.log(System.Logger.Level.WARNING, "cannot reset the dropped-window count: " + e.getMessage());
            }
        }
        return d;
    }

    public synchronized long pendingDropped() {
        return dropped;
    }

    private void evictOldest() throws IOException {
        Path f = files.removeFirst();
        long carried = 0;
        try {
            carried = codec.decode(Files.readAllBytes(f), TelemetryWindow.class).dropped();
        } catch (IOException | ProtocolException e) {
            // an unreadable window carries nothing we can recover
        }
        Files.deleteIfExists(f);
        addDropped(1 + carried);
    }

    private void addDropped(long n) throws IOException {
        dropped += n;
        AtomicFiles.write(dir.resolve(DROPPED_FILE), Long.toString(dropped).getBytes(StandardCharsets.US_ASCII));
    }
}
