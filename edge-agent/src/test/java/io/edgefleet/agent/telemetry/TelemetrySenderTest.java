package io.edgefleet.agent.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.exec.AgentExecutors;
import io.edgefleet.agent.testing.FakeLink;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The telemetry sender on a pool shared by many agents: a publish waiting for its PUBACK holds no thread (another
 * agent's window goes out on the pool's only thread meanwhile), and the agent's own next send, replay or ack still
 * waits behind it, in order, as when a sender thread blocked on every PUBACK.
 */
class TelemetrySenderTest {
    static final ModelRef MODEL = new ModelRef("clf", 1, "c".repeat(64));

    @TempDir
    Path dir;

    final JsonCodec codec = new JsonCodec();
    final AtomicLong clock = new AtomicLong(1_000_000);
    /** One send thread for every agent of the test. */
    final AgentExecutors executors = AgentExecutors.shared(1, 1);
    final ScheduledExecutorService agentThread = Executors.newSingleThreadScheduledExecutor();
    final List<TelemetryService> services = new ArrayList<>();
    final List<WindowRecorder> recorders = new ArrayList<>();

    @AfterEach
    void tearDown() {
        services.forEach(TelemetryService::close);
        agentThread.shutdownNow();
        executors.close();
    }

    private TelemetryService service(String device, FakeLink link) throws Exception {
        WindowRecorder recorder = new WindowRecorder(clock.get());
        TelemetryService s = new TelemetryService(device, recorder, new TelemetryBuffer(dir.resolve(device).resolve("buf"),
                100, codec), new SeqCounter(dir.resolve(device).resolve("seq")), link, codec, 5.0, w -> { }, agentThread,
                clock::get, executors.serialIo("telemetry-" + device));
        agentThread.submit(() -> s.start(3600, MODEL)).get();
        services.add(s);
        recorders.add(recorder);
        return s;
    }

    private void closeWindow(TelemetryService s) throws Exception {
        recorders.get(services.indexOf(s)).onSuccess(1_000_000L);
        clock.addAndGet(10_000);
        agentThread.submit(s::closeWindow).get();
    }

    private List<Long> seqs(FakeLink link, String device) {
        return link.on(Topics.telemetry(device)).stream().map(x -> codec.decode(x.payload(), TelemetryWindow.class).seq())
                .toList();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void aWindowWaitingForItsPubackHoldsNoThreadAndTheAgentsNextWindowWaitsBehindIt() throws Exception {
        FakeLink slow = new FakeLink();
        slow.holdAcks = true;
        FakeLink fast = new FakeLink();
        TelemetryService a = service("dev-a", slow);
        TelemetryService b = service("dev-b", fast);

        closeWindow(a);
        await(() -> slow.pendingAcks.size() == 1, "dev-a's first window published");
        // dev-a's PUBACK is outstanding; the pool's one send thread is free for dev-b
        closeWindow(b);
        await(() -> seqs(fast, "dev-b").size() == 1, "dev-b's window sent while dev-a waits for its PUBACK");
        assertEquals(1, slow.pendingAcks.size());

        closeWindow(a);
        Thread.sleep(200);
        assertEquals(List.of(0L), seqs(slow, "dev-a"), "dev-a's second window waits for the first one's PUBACK");
        assertEquals(1, a.buffered(), "the first on disk until the broker takes it; the second's step (buffer, then"
                + " send) is queued behind it, as it was behind a sender thread blocked on the PUBACK");

        slow.pendingAcks.get(0).complete(true);
        await(() -> slow.pendingAcks.size() == 2, "dev-a's second window published after the first PUBACK");
        assertEquals(List.of(0L, 1L), seqs(slow, "dev-a"));
        slow.pendingAcks.get(1).complete(true);
        a.flush(5000);
        assertEquals(0, a.buffered(), "a server without acks: each window leaves the buffer at its PUBACK");
    }

    @Test
    void aReplaySendsOneWindowPerPubackInOrderAndStopsAtTheFirstRefusal() throws Exception {
        FakeLink link = new FakeLink();
        link.holdAcks = true;
        link.connected = false;
        TelemetryService s = service("dev-r", link);
        for (int i = 0; i < 3; i++) {
            closeWindow(s);
        }
        s.flush(5000);
        assertEquals(3, s.buffered());
        assertTrue(link.sent.isEmpty());

        link.connected = true;
        s.onConnected();
        await(() -> link.pendingAcks.size() == 1, "first replayed window");
        Thread.sleep(100);
        assertEquals(1, link.sent.size(), "one window in flight at a time");
        link.pendingAcks.get(0).complete(true);
        await(() -> link.pendingAcks.size() == 2, "second replayed window");
        link.pendingAcks.get(1).complete(false); // the broker did not take it: the replay stops there
        s.flush(5000);
        assertEquals(List.of(0L, 1L), seqs(link, "dev-r"));
        assertTrue(link.on(Topics.telemetry("dev-r")).stream()
                .allMatch(x -> codec.decode(x.payload(), TelemetryWindow.class).replayed()));
        assertEquals(2, s.buffered(), "the refused window and the one behind it stay on disk");

        // the next window finds the replay unfinished: it replays from the refused one, in order, before itself
        closeWindow(s);
        await(() -> link.pendingAcks.size() == 3, "replay resumed");
        link.pendingAcks.get(2).complete(true);
        await(() -> link.pendingAcks.size() == 4, "then the one behind it");
        link.pendingAcks.get(3).complete(true);
        await(() -> link.pendingAcks.size() == 5, "then the new window");
        link.pendingAcks.get(4).complete(true);
        s.flush(5000);
        assertEquals(List.of(0L, 1L, 1L, 2L, 3L), seqs(link, "dev-r"));
        assertEquals(0, s.buffered());
    }
}
