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
 * On-disk FIFO of telemetry windows not yet confirmed (promise 4): windows that could not be sent,
 * and, once the server acknowledges telemetry, every window until the server's cumulative
 * acknowledgement covers it ({@link #removeUpTo}). One small JSON file per
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
    /** The seq of each buffered window, learnt when it is appended or read at start. */
    private final java.util.Map<Path, Long> seqs = new java.util.HashMap<>();
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
        for (Path f : files) {
            try {
                seqs.put(f, codec.decode(Files.readAllBytes(f), TelemetryWindow.class).seq());
            } catch (IOException | ProtocolException e) {
                // unreadable: peek() counts it as dropped when it gets there
            }
        }
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
        seqs.put(f, w.seq());
    }

    /**
     * Removes every window whose seq is at most {@code seq} from the front (the server confirmed them);
     * returns how many. Windows are appended in seq order, so the confirmed ones are a prefix.
     */
    public synchronized int removeUpTo(long seq) throws IOException {
        int n = 0;
        while (!files.isEmpty()) {
            Path f = files.peekFirst();
            Long s = seqs.get(f);
            if (s != null && s > seq) {
                break;
            }
            if (s == null) {
                // unreadable window at the front: let peek() count and discard it
                if (peek().isEmpty()) {
                    break;
                }
                continue;
            }
            files.removeFirst();
            seqs.remove(f);
            Files.deleteIfExists(f);
            n++;
        }
        return n;
    }

    /** The seq of the oldest window held, or empty. */
    public synchronized Optional<Long> oldestSeq() throws IOException {
        Optional<Entry> e = peek();
        return e.map(x -> x.window().seq());
    }

    /** Every window held, oldest first (unreadable ones are counted as dropped and skipped). */
    public synchronized java.util.List<Entry> entries() throws IOException {
        java.util.List<Entry> out = new java.util.ArrayList<>(files.size());
        for (Path f : new java.util.ArrayList<>(files)) {
            try {
                out.add(new Entry(f, codec.decode(Files.readAllBytes(f), TelemetryWindow.class)));
            } catch (NoSuchFileException e) {
                files.remove(f);
                seqs.remove(f);
            } catch (ProtocolException e) {
                files.remove(f);
                seqs.remove(f);
                Files.deleteIfExists(f);
                addDropped(1);
            }
        }
        return out;
    }

    /** The oldest window; an unreadable file is counted as dropped and skipped, never returned. */
    public synchronized Optional<Entry> peek() throws IOException {
        while (!files.isEmpty()) {
            Path f = files.peekFirst();
            try {
                return Optional.of(new Entry(f, codec.decode(Files.readAllBytes(f), TelemetryWindow.class)));
            } catch (NoSuchFileException e) {
                files.removeFirst();
                seqs.remove(f);
            } catch (ProtocolException e) {
                LOG.log(System.Logger.Level.WARNING, "buffered telemetry " + f.getFileName() + " is unreadable ("
                        + e.getMessage() + "); counted as dropped");
                files.removeFirst();
                seqs.remove(f);
                Files.deleteIfExists(f);
                addDropped(1);
            }
        }
        return Optional.empty();
    }

    /** Removes a window once the broker has acknowledged it. */
    public synchronized void remove(Entry e) throws IOException {
        if (files.remove(e.file())) {
            seqs.remove(e.file());
            Files.deleteIfExists(e.file());
        }
    }

    public Path directory() {
        return dir;
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
        seqs.remove(f);
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
