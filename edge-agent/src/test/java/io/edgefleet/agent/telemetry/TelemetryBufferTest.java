package io.edgefleet.agent.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.TelemetryWindow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TelemetryBufferTest {
    final JsonCodec codec = new JsonCodec();

    @TempDir
    Path dir;

    static TelemetryWindow w(long seq, long dropped) {
        return new TelemetryWindow(Protocol.VERSION, "id-" + seq, 1000 + seq, "dev-1", seq, 1000 + seq, 1001 + seq, null,
                10, 0, null, null, null, dropped, false);
    }

    private List<Long> drain(TelemetryBuffer b) throws IOException {
        List<Long> seqs = new ArrayList<>();
        while (true) {
            var e = b.peek();
            if (e.isEmpty()) {
                return seqs;
            }
            seqs.add(e.get().window().seq());
            b.remove(e.get());
        }
    }

    @Test
    void keepsWindowsInOrder() throws IOException {
        TelemetryBuffer b = new TelemetryBuffer(dir, 100, codec);
        for (long i = 0; i < 12; i++) {
            b.append(w(i, 0));
        }
        assertEquals(12, b.size());
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L), drain(b));
        assertEquals(0, b.size());
    }

    @Test
    void overflowDropsTheOldestAndCountsThem() throws IOException {
        TelemetryBuffer b = new TelemetryBuffer(dir, 3, codec);
        for (long i = 0; i < 7; i++) {
            b.append(w(i, 0));
        }
        assertEquals(3, b.size());
        assertEquals(4, b.pendingDropped());
        assertEquals(4, b.takeDropped());
        assertEquals(0, b.takeDropped(), "taken once");
        assertEquals(List.of(4L, 5L, 6L), drain(b));
    }

    @Test
    void anEvictedWindowPassesOnTheDropCountItCarried() throws IOException {
        TelemetryBuffer b = new TelemetryBuffer(dir, 2, codec);
        b.append(w(0, 5)); // reported 5 earlier losses
        b.append(w(1, 0));
        b.append(w(2, 0)); // evicts seq 0: 1 window + its 5
        assertEquals(6, b.pendingDropped());
    }

    @Test
    void survivesARestartIncludingTheDropCount() throws IOException {
        TelemetryBuffer b = new TelemetryBuffer(dir, 3, codec);
        for (long i = 0; i < 5; i++) {
            b.append(w(i, 0));
        }
        TelemetryBuffer reopened = new TelemetryBuffer(dir, 3, codec);
        assertEquals(3, reopened.size());
        assertEquals(2, reopened.pendingDropped());
        reopened.append(w(5, 0)); // appends after the existing files, evicting seq 2
        assertEquals(List.of(3L, 4L, 5L), drain(reopened));
        assertEquals(3, reopened.takeDropped());
        assertEquals(0, new TelemetryBuffer(dir, 3, codec).pendingDropped());
    }

    @Test
    void aSmallerBoundAfterRestartTrimsTheOldest() throws IOException {
        TelemetryBuffer b = new TelemetryBuffer(dir, 10, codec);
        for (long i = 0; i < 6; i++) {
            b.append(w(i, 0));
        }
        TelemetryBuffer smaller = new TelemetryBuffer(dir, 4, codec);
        assertEquals(List.of(2L, 3L, 4L, 5L), drain(smaller));
        assertEquals(2, smaller.pendingDropped());
    }

    @Test
    void aDamagedFileIsSkippedAndCountedNotReturned() throws IOException {
        TelemetryBuffer b = new TelemetryBuffer(dir, 10, codec);
        b.append(w(0, 0));
        b.append(w(1, 0));
        Path first;
        try (Stream<Path> s = Files.list(dir)) {
            first = s.filter(p -> p.toString().endsWith(".json")).sorted().findFirst().orElseThrow();
        }
        Files.writeString(first, "{\"v\":1,\"id\":");
        TelemetryBuffer reopened = new TelemetryBuffer(dir, 10, codec);
        assertEquals(List.of(1L), drain(reopened));
        assertEquals(1, reopened.pendingDropped());
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.toString().endsWith(".json")));
        }
    }

    @Test
    void sendsAndReplaysReadWhatIsStillInMemoryNotTheDisk() throws IOException {
        TelemetryBuffer b = new TelemetryBuffer(dir, 1000, codec);
        int n = TelemetryBuffer.MEMORY_MAX + 6;
        for (long i = 0; i < n; i++) {
            b.append(w(i, 0));
        }
        assertEquals(0L, b.oldestSeq().orElseThrow());
        assertEquals(0L, b.peek().orElseThrow().window().seq());
        assertEquals(TelemetryBuffer.MEMORY_MAX, b.entries().stream().limit(TelemetryBuffer.MEMORY_MAX).count());
        assertEquals(6, b.diskReads(), "only the windows past the memory bound came from disk (once each, in entries())");
        assertEquals(TelemetryBuffer.MEMORY_MAX, b.removeUpTo(TelemetryBuffer.MEMORY_MAX - 1));
        assertEquals((long) TelemetryBuffer.MEMORY_MAX, b.oldestSeq().orElseThrow(), "known without reading the file");
        assertEquals(6, b.diskReads());
        assertEquals((long) TelemetryBuffer.MEMORY_MAX, b.peek().orElseThrow().window().seq());
        assertEquals(7, b.diskReads(), "a window that never fitted in memory is read from its file");
        // the memory copy and the file agree: a reopened buffer reads the same windows from disk
        TelemetryBuffer reopened = new TelemetryBuffer(dir, 1000, codec);
        assertEquals(b.entries(), reopened.entries());
        assertEquals(0, reopened.diskReads(), "what the start read is kept in memory");
    }
}
