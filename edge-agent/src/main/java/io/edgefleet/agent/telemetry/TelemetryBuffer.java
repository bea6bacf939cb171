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
    /**
     * Windows kept decoded in memory beside their files, so a send or a replay does not read back what this
     * process wrote (at 10,000 simulated agents every send read its oldest window from disk). Bounded, because
     * the buffer may hold thousands while the server is away: past the bound the newer windows are read from
     * disk when their turn comes. The files stay the truth; the memory copy only saves the read.
     */
    static final int MEMORY_MAX = 64;

    /** A buffered window and the file it lives in. */
    public record Entry(Path file, TelemetryWindow window) {
    }

    private final Path dir;
    private final int max;
    private final JsonCodec codec;
    private final Deque<Path> files = new ArrayDeque<>();
    /** The seq of each buffered window, learnt when it is appended or read at start. */
    private final java.util.Map<Path, Long> seqs = new java.util.HashMap<>();
    /** Decoded copies of (at most {@link #MEMORY_MAX}) buffered windows, by file. */
    private final java.util.Map<Path, TelemetryWindow> inMemory = new java.util.HashMap<>();
    /** Windows decoded from disk rather than memory since start (tests see the memory copy is used). */
    private long diskReads;
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
                TelemetryWindow w = codec.decode(Files.readAllBytes(f), TelemetryWindow.class);
                seqs.put(f, w.seq());
                remember(f, w);
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
        remember(f, w);
    }

    private void remember(Path f, TelemetryWindow w) {
        if (inMemory.size() < MEMORY_MAX) {
            inMemory.put(f, w);
        }
    }

    private TelemetryWindow read(Path f) throws IOException {
        TelemetryWindow w = inMemory.get(f);
        if (w != null) {
            return w;
        }
        diskReads++;
        return codec.decode(Files.readAllBytes(f), TelemetryWindow.class);
    }

    private void forget(Path f) {
        seqs.remove(f);
        inMemory.remove(f);
    }

    /** How many windows were read back from disk (not found in memory) since this buffer was opened. */
    public synchronized long diskReads() {
        return diskReads;
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
            forget(f);
            Files.deleteIfExists(f);
            n++;
        }
        return n;
    }

    /** The seq of the oldest window held, or empty. */
    public synchronized Optional<Long> oldestSeq() throws IOException {
        Long known = files.isEmpty() ? null : seqs.get(files.peekFirst());
        if (known != null) {
            return Optional.of(known);
        }
        Optional<Entry> e = peek();
        return e.map(x -> x.window().seq());
    }

    /** Every window held, oldest first (unreadable ones are counted as dropped and skipped). */
    public synchronized java.util.List<Entry> entries() throws IOException {
        java.util.List<Entry> out = new java.util.ArrayList<>(files.size());
        for (Path f : new java.util.ArrayList<>(files)) {
            try {
                out.add(new Entry(f, read(f)));
            } catch (NoSuchFileException e) {
                files.remove(f);
                forget(f);
            } catch (ProtocolException e) {
                files.remove(f);
                forget(f);
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
                return Optional.of(new Entry(f, read(f)));
            } catch (NoSuchFileException e) {
                files.removeFirst();
                forget(f);
            } catch (ProtocolException e) {
                LOG.log(System.Logger.Level.WARNING, "buffered telemetry " + f.getFileName() + " is unreadable ("
                        + e.getMessage() + "); counted as dropped");
                files.removeFirst();
                forget(f);
                Files.deleteIfExists(f);
                addDropped(1);
            }
        }
        return Optional.empty();
    }

    /** Removes a window once the broker has acknowledged it. */
    public synchronized void remove(Entry e) throws IOException {
        if (files.remove(e.file())) {
            forget(e.file());
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
        long carried = 0;
        try {
            carried = read(f).dropped();
        } catch (IOException | ProtocolException e) {
            // an unreadable window carries nothing we can recover
        }
        forget(f);
        Files.deleteIfExists(f);
        addDropped(1 + carried);
    }

    private void addDropped(long n) throws IOException {
        dropped += n;
        AtomicFiles.write(dir.resolve(DROPPED_FILE), Long.toString(dropped).getBytes(StandardCharsets.US_ASCII));
    }
}
