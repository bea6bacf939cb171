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

    public synchronized long next() throws IOException {
        long n = last + 1;
        AtomicFiles.write(file, Long.toString(n).getBytes(StandardCharsets.US_ASCII));
        last = n;
        return n;
    }

    public synchronized long last() {
        return last;
    }
}
