package io.edgefleet.agent.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.testing.FakeLink;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live sending, offline buffering, in-order replay and loss accounting (promise 4). */
class TelemetryServiceTest {
    static final ModelRef MODEL = new ModelRef("clf", 1, "c".repeat(64));

    @TempDir
    Path dir;

    final JsonCodec codec = new JsonCodec();
    final FakeLink link = new FakeLink();
    final List<TelemetryWindow> observed = new CopyOnWriteArrayList<>();
    final AtomicLong clock = new AtomicLong(1_000_000);
    ScheduledExecutorService agentThread;
    WindowRecorder recorder;
    TelemetryService service;

    @BeforeEach
    void setUp() throws Exception {
        agentThread = Executors.newSingleThreadScheduledExecutor();
        service = newService(3);
    }

    private TelemetryService newService(int max) throws Exception {
        recorder = new WindowRecorder(clock.get());
        TelemetryService s = new TelemetryService("dev-1", recorder, new TelemetryBuffer(dir.resolve("buf"), max, codec),
                new SeqCounter(dir.resolve("seq")), link, codec, 5.0, observed::add, agentThread, clock::get);
        agentThread.submit(() -> s.start(3600, MODEL)).get();
        return s;
    }

    @AfterEach
    void tearDown() {
        service.close();
        agentThread.shutdownNow();
    }

    private void windowWith(int successesMs) throws Exception {
        for (int i = 0; i < 10; i++) {
            recorder.onSuccess(successesMs * 1_000_000L);
        }
        clock.addAndGet(10_000);
        agentThread.submit(service::closeWindow).get();
        service.flush(5000);
        agentThread.submit(() -> { }).get(); // the observer's call, queued by the send step
    }

    private List<TelemetryWindow> sent() {
        return link.on(Topics.telemetry("dev-1")).stream()
                .map(s -> codec.decode(s.payload(), TelemetryWindow.class)).toList();
    }

    @Test
    void connectedWindowsGoOutLiveWithMonotonicSeqAndEnergy() throws Exception {
        windowWith(4);
        windowWith(8);
        List<TelemetryWindow> out = sent();
        assertEquals(2, out.size());
        assertEquals(List.of(0L, 1L), out.stream().map(TelemetryWindow::seq).toList());
        TelemetryWindow w = out.get(0);
        assertEquals(MODEL, w.model());
        assertEquals(10, w.inferences());
        assertEquals(4.0, w.latency().p95(), 0.01);
        assertEquals(20.0, w.energyMj(), 0.05, "5 W x 4 ms = 20 mJ per inference");
        assertFalse(w.replayed());
        assertEquals(out.get(0).windowEnd(), out.get(1).windowStart(), "windows are contiguous");
        agentThread.submit(() -> { }).get();
        assertEquals(2, observed.size(), "the health watch sees every window");
    }

    @Test
    void offlineWindowsAreBufferedAndReplayedInOrderOnReconnect() throws Exception {
        link.connected = false;
        windowWith(1);
        windowWith(2);
        windowWith(3);
        assertTrue(sent().isEmpty());
        assertEquals(3, service.buffered());
        link.connected = true;
        service.onConnected();
        service.flush(5000);
        List<TelemetryWindow> out = sent();
        assertEquals(List.of(0L, 1L, 2L), out.stream().map(TelemetryWindow::seq).toList());
        assertTrue(out.stream().allMatch(TelemetryWindow::replayed));
        assertEquals(0, service.buffered());
        windowWith(4);
        assertFalse(sent().get(3).replayed(), "live again once the buffer is empty");
    }

    @Test
    void whileTheBufferHoldsWindowsNewOnesQueueBehindThem() throws Exception {
        link.failAcks = true; // connected, but the broker does not acknowledge
        windowWith(1);
        assertEquals(1, service.buffered());
        link.failAcks = false;
        windowWith(2); // must not overtake seq 0
        List<TelemetryWindow> out = sent();
        assertEquals(List.of(0L, 1L), out.stream().map(TelemetryWindow::seq).toList());
        assertTrue(out.get(0).replayed());
    }

    @Test
    void everyWindowLostToOverflowIsCountedInDroppedOfWhatArrives() throws Exception {
        link.connected = false;
        for (int i = 0; i < 8; i++) {
            windowWith(1);
        }
        assertEquals(3, service.buffered());
        link.connected = true;
        service.onConnected();
        service.flush(5000);
        windowWith(1);
        List<TelemetryWindow> out = sent();
        long delivered = out.size();
        long reportedLost = out.stream().mapToLong(TelemetryWindow::dropped).sum();
        assertEquals(9, delivered + reportedLost, "9 windows produced: each arrived or was counted as dropped");
        assertEquals(5, reportedLost);
        assertEquals(List.of(5L, 6L, 7L, 8L), out.stream().map(TelemetryWindow::seq).toList());
    }

    @Test
    void seqAndTheBufferSurviveARestart() throws Exception {
        link.connected = false;
        windowWith(1);
        windowWith(1);
        service.close();
        service = newService(3);
        link.connected = true;
        service.onConnected();
        service.flush(5000);
        windowWith(1);
        assertEquals(List.of(0L, 1L, 2L), sent().stream().map(TelemetryWindow::seq).toList());
    }

    @Test
    void aModelChangeClosesTheOldModelsWindowAndRestartsTheTimer() throws Exception {
        ModelRef next = new ModelRef("clf", 2, "d".repeat(64));
        for (int i = 0; i < 5; i++) {
            recorder.onSuccess(2_000_000);
        }
        clock.addAndGet(3000);
        agentThread.submit(() -> service.modelChanged(recorder.cut(clock.get()), MODEL, next)).get();
        service.flush(5000);
        windowWith(1);
        List<TelemetryWindow> out = sent();
        assertEquals(MODEL, out.get(0).model());
        assertEquals(5, out.get(0).inferences());
        assertEquals(next, out.get(1).model());
    }

    private void serverAcks(long seq) {
        service.onAck(io.edgefleet.protocol.TelemetryAck.of("dev-1", seq));
        service.flush(5000);
    }

    @Test
    void onceTheServerAcknowledgesWindowsStayUntilItsCumulativeAckCoversThem() throws Exception {
        service.close();
        service = newService(100);
        windowWith(1);
        assertEquals(0, service.buffered(), "no ack seen yet: the broker's PUBACK releases the window (old servers)");
        serverAcks(0);
        windowWith(1);
        windowWith(1);
        assertEquals(2, service.buffered(), "the broker took them, the server has not confirmed them");
        List<TelemetryWindow> out = sent();
        assertEquals(1L, out.get(1).ackBase(), "the oldest seq still held");
        assertEquals(1L, out.get(2).ackBase());
        serverAcks(1);
        assertEquals(1, service.buffered());
        serverAcks(2);
        assertEquals(0, service.buffered());
        windowWith(1);
        assertEquals(3L, sent().get(3).ackBase());
    }

    @Test
    void theAckModeIsRememberedAcrossRestarts() throws Exception {
        service.close();
        service = newService(100);
        windowWith(1);
        serverAcks(0);
        service.close();
        service = newService(100);
        windowWith(1);
        assertEquals(1, service.buffered(), "still waiting for the server after a restart");
    }

    @Test
    void unconfirmedWindowsAreReplayedOnReconnectAndAfterTheAckTimeout() throws Exception {
        service.close();
        service = newService(100);
        windowWith(1);
        serverAcks(0);
        windowWith(1); // seq 1: the broker took it, then lost it (restart), and the server never saw it
        windowWith(1); // seq 2
        int before = sent().size();
        service.onConnected();
        service.flush(5000);
        List<TelemetryWindow> again = sent().subList(before, sent().size());
        assertEquals(List.of(1L, 2L), again.stream().map(TelemetryWindow::seq).toList());
        assertTrue(again.stream().allMatch(TelemetryWindow::replayed));
        assertEquals(again.get(0).id(), sent().get(1).id(), "same message id: the server stores it once");

        // No reconnect this time: the ack timeout brings them back.
        service.setAckTimeoutMs(5_000);
        int mark = sent().size();
        clock.addAndGet(60_000);
        long deadline = System.currentTimeMillis() + 60_000; // the replay itself ends the wait; the bound only stops a hang
        while (sent().size() < mark + 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        service.flush(5000);
        assertEquals(List.of(1L, 2L), sent().subList(mark, mark + 2).stream().map(TelemetryWindow::seq).toList());
        serverAcks(2);
        assertEquals(0, service.buffered());
    }

    /**
     * A server that stores behind the fleet confirms late: the ack timeout follows its lag (three times it), so the
     * agent does not replay what the server is about to confirm; a window lost on the way is still replayed, after
     * that longer timeout; once the server is fast again the timeout comes back down.
     */
    @Test
    void theAckTimeoutFollowsTheServersLagSoASlowServerGetsNoReplays() throws Exception {
        service.close();
        service = newService(100);
        service.setAckTimeoutMs(5_000);
        windowWith(1); // seq 0
        serverAcks(0);
        assertEquals(5_000, service.ackTimeoutMs(), "confirmed at once: the floor");

        windowWith(1); // seq 1, taken by the broker now
        clock.addAndGet(40_000); // the server confirms it 40 s later
        serverAcks(1);
        assertEquals(40_000, service.ackLagMs(), "one slow confirmation is enough");
        assertEquals(120_000, service.ackTimeoutMs());

        // seq 2 waits 60 s for its confirmation: with the fixed 5 s it would have been replayed (see the test above).
        windowWith(1);
        int mark = sent().size();
        clock.addAndGet(60_000);
        Thread.sleep(2_500); // two rounds of the once-a-second check
        service.flush(5000);
        assertEquals(mark, sent().size(), "nothing replayed while the server is within three times its lag");

        // The server never confirms it (lost): replayed once the window is older than the adaptive timeout.
        clock.addAndGet(70_000);
        long deadline = System.currentTimeMillis() + 60_000; // the replay itself ends the wait; the bound only stops a hang
        while (sent().size() == mark && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        service.flush(5000);
        List<TelemetryWindow> again = sent().subList(mark, sent().size());
        assertEquals(List.of(2L), again.stream().map(TelemetryWindow::seq).toList());
        assertTrue(again.get(0).replayed());

        // Fast confirmations bring the lag down over about ten acknowledgements, not at once.
        serverAcks(2);
        for (int i = 0; i < 40; i++) {
            windowWith(1);
            serverAcks(3 + i);
        }
        assertTrue(service.ackLagMs() < 1_000, "the lag decays: " + service.ackLagMs());
        assertEquals(5_000, service.ackTimeoutMs());
    }

    @Test
    void anEmptyWindowAtAModelChangeIsNotSent() throws Exception {
        agentThread.submit(() -> service.modelChanged(recorder.cut(clock.get()), null, MODEL)).get();
        service.flush(5000);
        assertTrue(sent().isEmpty());
        agentThread.awaitTermination(10, TimeUnit.MILLISECONDS);
    }

    /** Issue 13, finding 5: windows the disk refuses while offline are held in memory, in order, and all arrive. */
    @Test
    void windowsTheDiskRefusesAreHeldInMemoryAndSentInOrder() throws Exception {
        link.connected = false;
        windowWith(4);
        assertEquals(1, service.buffered(), "first window on disk");
        io.edgefleet.agent.store.AtomicFiles.injectFaults((op, p) -> {
            throw new java.nio.file.FileSystemException(p.toString(), null, "Read-only file system");
        });
        try {
            for (int i = 0; i < 4; i++) {
                windowWith(5);
            }
            assertEquals(4, service.heldInMemory(), "refused windows are held, not lost");
            assertEquals(1, service.buffered());
            link.connected = true;
            service.onConnected();
            service.flush(5000);
        } finally {
            io.edgefleet.agent.store.AtomicFiles.injectFaults(null);
        }
        List<TelemetryWindow> out = sent();
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), out.stream().map(TelemetryWindow::seq).toList(),
                "every window arrives once, in order, although the disk was read-only");
        assertEquals(0, service.heldInMemory());
        assertEquals(0, out.stream().mapToLong(TelemetryWindow::dropped).sum(), "nothing dropped");
    }

    @Test
    void theAgentThreadWritesNoFileWhenAWindowIsCut() throws Exception {
        // The agent thread runs on the simulator's CPU-sized pool shared by every agent; the seq counter, the
        // dropped count and the buffer are file writes and belong to the sender's steps.
        List<String> writers = new CopyOnWriteArrayList<>();
        String agentThreadName = agentThread.submit(() -> Thread.currentThread().getName()).get();
        io.edgefleet.agent.store.AtomicFiles.injectFaults((op, p) -> writers.add(Thread.currentThread().getName() + " " + op
                + " " + p.getFileName()));
        try {
            windowWith(4);
            windowWith(4);
        } finally {
            io.edgefleet.agent.store.AtomicFiles.injectFaults(null);
        }
        assertTrue(writers.stream().anyMatch(x -> x.endsWith(" write seq")), "the counter was written: " + writers);
        assertTrue(writers.stream().noneMatch(x -> x.startsWith(agentThreadName + " ")), agentThreadName + " wrote " + writers);
        assertEquals(List.of(0L, 1L), sent().stream().map(TelemetryWindow::seq).toList());
        assertEquals(List.of(10L, 10L), observed.stream().map(TelemetryWindow::inferences).toList(),
                "the observer sees each window, on the agent thread as it is cut");
    }
}
