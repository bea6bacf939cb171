package io.edgefleet.agent.telemetry;

import io.edgefleet.agent.store.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The telemetry sequence number, persisted after every step so it stays monotonic across restarts
 * and the server can tell a gap (lost windows) from a restart.
 */
public final class SeqCounter {
    private final Path file;
    private long last;
    private boolean unsaved;

    public SeqCounter(Path file) throws IOException {
        this.file = file;
        long v = -1;
        try {
            v = Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim());
        } catch (NoSuchFileException e) {
            v = -1;
        } catch (NumberFormatException e) {
            // Unreadable counter: continue from the wall clock in ms, which is above any count a device reaches.
            v = System.currentTimeMillis();
        }
        this.last = v;
    }

    /**
     * The next number. It advances in memory even when the disk refuses to record it, because a window
     * must not be lost for want of a counter file; {@link #unsaved()} says the file is behind.
     */
    public synchronized long next() {
        long n = last + 1;
        last = n;
        try {
            AtomicFiles.write(file, Long.toString(n).getBytes(StandardCharsets.US_ASCII));
            unsaved = false;
        } catch (IOException e) {
            if (!unsaved) {
                System.getLogger(SeqCounter.class.getName()).log(System.Logger.Level.WARNING,
                        "cannot record telemetry seq " + n + " in " + file + ": " + e.getMessage() + "; counting on in memory");
            }
            unsaved = true;
        }
        return n;
    }

    public synchronized boolean unsaved() {
        return unsaved;
    }

    public synchronized long last() {
        return last;
    }
}
