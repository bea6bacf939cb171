package io.edgefleet.agent.telemetry;

import io.edgefleet.agent.mqtt.Link;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Turns closed windows into {@link TelemetryWindow} messages and gets them to the broker: live when
 * connected and nothing is waiting, otherwise through the on-disk {@link TelemetryBuffer}, replayed
 * in order with {@code replayed=true} once the broker acknowledges again. Sending happens on its own
 * thread because it waits for acknowledgements; windows are cut on the agent thread.
 */
public final class TelemetryService implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TelemetryService.class.getName());
    static final long ACK_TIMEOUT_MS = 10_000;

    private final String deviceId;
    private final WindowRecorder recorder;
    private final TelemetryBuffer buffer;
    private final SeqCounter seq;
    private final Link link;
    private final JsonCodec codec;
    private final double activeWatts;
    private final Consumer<TelemetryWindow> observer;
    private final ScheduledExecutorService agentThread;
    private final LongSupplier clock;
    private final ExecutorService sender;
    private final String topic;
    private ScheduledFuture<?> timer;
    private int windowSeconds;
    private volatile ModelRef model;
    /**
     * Windows the disk buffer refused (full, read-only, permission), held in memory in order behind
     * the disk buffer, up to {@link #HOLD_MAX}; beyond that the oldest goes and is counted as dropped.
     * Only the sender thread touches them.
     */
    private final java.util.ArrayDeque<TelemetryWindow> held = new java.util.ArrayDeque<>();
    private volatile int heldCount;
    private final java.util.concurrent.atomic.AtomicLong heldDropped = new java.util.concurrent.atomic.AtomicLong();
    static final int HOLD_MAX = 1000;
    private volatile TelemetryWindow lastWindow;

    /**
     * @param observer    sees every window on the agent thread (the health watch)
     * @param agentThread the agent's single thread; windows are cut there
     */
    public TelemetryService(String deviceId, WindowRecorder recorder, TelemetryBuffer buffer, SeqCounter seq, Link link,
                            JsonCodec codec, double activeWatts, Consumer<TelemetryWindow> observer,
                            ScheduledExecutorService agentThread, LongSupplier clock) {
        this.deviceId = deviceId;
        this.recorder = recorder;
        this.buffer = buffer;
        this.seq = seq;
        this.link = link;
        this.codec = codec;
        this.activeWatts = activeWatts;
        this.observer = observer;
        this.agentThread = agentThread;
        this.clock = clock;
        this.topic = Topics.telemetry(deviceId);
        this.sender = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "telemetry-" + deviceId);
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts the window timer; call on the agent thread. */
    public void start(int windowSeconds, ModelRef current) {
        this.model = current;
        this.windowSeconds = windowSeconds;
        restartTimer();
    }

    public int windowSeconds() {
        return windowSeconds;
    }

    public void setWindowSeconds(int seconds) {
        this.windowSeconds = seconds;
        restartTimer();
    }

    public TelemetryWindow lastWindow() {
        return lastWindow;
    }

    private synchronized void restartTimer() {
        if (timer != null) {
            timer.cancel(false);
        }
        timer = agentThread.scheduleAtFixedRate(this::closeWindow, windowSeconds, windowSeconds, TimeUnit.SECONDS);
    }

    /** Closes the current window and sends it; the timer calls this on the agent thread. */
    public void closeWindow() {
        try {
            emit(recorder.cut(clock.getAsLong()), model);
        } catch (RuntimeException | IOException e) {
            // A scheduled task that throws is never run again; log and keep the timer alive.
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry window failed: " + e);
        }
    }

    /**
     * The model changes: {@code closed} is the window of the previous model, cut while no inference
     * was in flight. It is sent (if it saw any inference) and the timer restarts so the new model's
     * windows are full length.
     */
    public void modelChanged(WindowRecorder.Window closed, ModelRef previous, ModelRef next) {
        this.model = next;
        try {
            if (closed != null && closed.inferences() > 0) {
                emit(closed, previous);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry window failed: " + e);
        }
        if (timer != null) {
            restartTimer();
        }
    }

    private void emit(WindowRecorder.Window w, ModelRef m) throws IOException {
        long now = clock.getAsLong();
        long start = Math.max(1, w.start());
        Double energy = w.latency() == null ? null : Math.round(activeWatts * w.latency().mean() * 1000.0) / 1000.0;
        TelemetryWindow tw = new TelemetryWindow(Protocol.VERSION, Protocol.newMessageId(), now, deviceId, seq.next(),
                start, Math.max(start, w.end()), m, w.inferences(), w.errors(), w.latency(), energy, null,
                buffer.takeDropped() + heldDropped.getAndSet(0), false);
        lastWindow = tw;
        agentThread.execute(() -> observer.accept(tw));
        sender.execute(() -> send(tw));
    }

    /** Reconnected: replay what waits on disk. */
    public void onConnected() {
        sender.execute(this::drain);
    }

    private void send(TelemetryWindow w) {
        try {
            moveHeldToDisk();
            if (buffer.size() == 0 && held.isEmpty() && link.isConnected()
                    && link.publishAndWait(topic, codec.encode(w), false, ACK_TIMEOUT_MS)) {
                return;
            }
            if (held.isEmpty()) {
                try {
                    buffer.append(w);
                } catch (IOException e) {
                    hold(w, e);
                }
            } else {
                hold(w, null); // behind windows already held: keep the order
            }
            drain();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": cannot buffer telemetry window " + w.seq() + ": " + e);
        }
    }

    private void hold(TelemetryWindow w, IOException why) {
        if (why != null && held.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, deviceId + ": cannot buffer telemetry on disk (" + why.getMessage()
                    + "); holding windows in memory until the disk takes them");
        }
        if (held.size() >= HOLD_MAX) {
            TelemetryWindow lost = held.removeFirst();
            heldDropped.addAndGet(1 + lost.dropped());
        }
        held.addLast(w);
        heldCount = held.size();
    }

    /** Once the disk takes writes again, held windows go behind what it already buffers. */
    private void moveHeldToDisk() {
        while (!held.isEmpty()) {
            try {
                buffer.append(held.peekFirst());
            } catch (IOException e) {
                return;
            }
            held.removeFirst();
            heldCount = held.size();
        }
    }

    private void drain() {
        try {
            moveHeldToDisk();
            while (link.isConnected()) {
                Optional<TelemetryBuffer.Entry> e = buffer.peek();
                if (e.isEmpty()) {
                    break;
                }
                TelemetryWindow w = e.get().window();
                // Same message id as the original: if the first attempt did arrive, the server drops the copy.
                if (!link.publishAndWait(topic, codec.encode(asReplay(w)), false, ACK_TIMEOUT_MS)) {
                    return;
                }
                buffer.remove(e.get());
            }
            // The disk is still refusing: send what memory holds, in order, straight from there.
            while (link.isConnected() && !held.isEmpty() && buffer.size() == 0) {
                if (!link.publishAndWait(topic, codec.encode(asReplay(held.peekFirst())), false, ACK_TIMEOUT_MS)) {
                    return;
                }
                held.removeFirst();
                heldCount = held.size();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry replay failed: " + e);
        }
    }

    private static TelemetryWindow asReplay(TelemetryWindow w) {
        return new TelemetryWindow(w.v(), w.id(), w.ts(), w.deviceId(), w.seq(), w.windowStart(),
                w.windowEnd(), w.model(), w.inferences(), w.errors(), w.latency(), w.energyMj(), w.drift(),
                w.dropped(), true);
    }

    /** Windows held in memory because the disk buffer refused them. */
    public int heldInMemory() {
        return heldCount;
    }

    public int buffered() {
        return buffer.size();
    }

    /** Waits until everything queued for sending has been tried (tests and orderly shutdown). */
    public void flush(long timeoutMs) {
        try {
            sender.submit(() -> { }).get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // best effort
        }
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.cancel(false);
        }
        sender.shutdown();
        try {
            sender.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.shutdownNow();
    }
}
