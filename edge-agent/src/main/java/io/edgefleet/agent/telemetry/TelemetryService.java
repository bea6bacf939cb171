package io.edgefleet.agent.telemetry;

import io.edgefleet.agent.energy.EnergyMeter;
import io.edgefleet.agent.mqtt.Link;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.TelemetryAck;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.protocol.drift.DriftReport;
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
 * Turns closed windows into {@link TelemetryWindow} messages and gets them to the server. Every
 * window goes to the on-disk {@link TelemetryBuffer} first and is sent live when connected.
 *
 * <p>Against a server that acknowledges telemetry ({@link TelemetryAck} on the device's ack topic;
 * seen once, remembered in the buffer directory) a window stays in the buffer until the server's
 * cumulative acknowledgement covers it: the broker's PUBACK only says the broker has it, and a
 * broker that restarts or drops a full queue loses what it acknowledged. Unconfirmed windows are
 * replayed in order ({@code replayed=true}, same message id, so the server stores each once) after
 * every reconnect and when the oldest has waited longer than the ack timeout. Each window carries
 * {@code ackBase}, the oldest seq still held, so the server's watermark skips what the agent dropped
 * (counted in {@code dropped}). Against an older server the window leaves the buffer at the
 * broker's PUBACK, as before. Sending happens on its own serial executor because it waits for PUBACKs;
 * windows are cut on the agent thread.
 */
public final class TelemetryService implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TelemetryService.class.getName());
    static final long ACK_TIMEOUT_MS = 10_000;
    /** Marker file in the buffer directory: this device's server acknowledges telemetry. */
    static final String ACKS_SEEN_FILE = "server-acks";

    private final String deviceId;
    /** One per model: its recorder and the version it runs; one window each per period. */
    private final java.util.List<Source> sources = new java.util.concurrent.CopyOnWriteArrayList<>();
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

    /** What the windows of one model are cut from. */
    private static final class Source {
        final String key;
        final WindowRecorder recorder;
        volatile ModelRef model;

        Source(String key, WindowRecorder recorder, ModelRef model) {
            this.key = key;
            this.recorder = recorder;
            this.model = model;
        }
    }
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
    private final java.nio.file.Path acksSeenFile;
    private volatile boolean acksSeen;
    /** Sender thread only: unconfirmed windows must be replayed before anything new is sent live. */
    private boolean replayPending;
    private long lastReplayAt;
    private long serverAcked = -1;
    private ScheduledFuture<?> ackTimer;
    private long ackTimeoutMs;
    private volatile EnergyMeter energyMeter;

    /**
     * @param observer    sees every window on the agent thread (the health watch)
     * @param agentThread the agent's single thread; windows are cut there
     */
    public TelemetryService(String deviceId, WindowRecorder recorder, TelemetryBuffer buffer, SeqCounter seq, Link link,
                            JsonCodec codec, double activeWatts, Consumer<TelemetryWindow> observer,
                            ScheduledExecutorService agentThread, LongSupplier clock) {
        this(deviceId, recorder, buffer, seq, link, codec, activeWatts, observer, agentThread, clock, null);
    }

    /**
     * @param sender runs the sends one at a time (they wait for PUBACKs): a serial executor on a pool shared by
     *               many agents, or null for a thread of this service's own; shut down by {@link #close()}
     */
    public TelemetryService(String deviceId, WindowRecorder recorder, TelemetryBuffer buffer, SeqCounter seq, Link link,
                            JsonCodec codec, double activeWatts, Consumer<TelemetryWindow> observer,
                            ScheduledExecutorService agentThread, LongSupplier clock, ExecutorService sender) {
        this.deviceId = deviceId;
        if (recorder != null) {
            sources.add(new Source("", recorder, null));
        }
        this.buffer = buffer;
        this.seq = seq;
        this.link = link;
        this.codec = codec;
        this.activeWatts = activeWatts;
        this.observer = observer;
        this.agentThread = agentThread;
        this.clock = clock;
        this.topic = Topics.telemetry(deviceId);
        this.acksSeenFile = buffer.directory().resolve(ACKS_SEEN_FILE);
        this.acksSeen = java.nio.file.Files.exists(acksSeenFile);
        this.sender = sender != null ? sender : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "telemetry-" + deviceId);
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts the window timer; call on the agent thread. {@code current} is the model of the recorder given at construction. */
    public void start(int windowSeconds, ModelRef current) {
        Source first = source("");
        if (first != null) {
            first.model = current;
        }
        this.windowSeconds = windowSeconds;
        restartTimer();
    }

    /**
     * Adds the recorder of one more model (several models per device): from the next period on, every
     * period closes one window per model, each naming its model. {@code key} identifies the source in
     * {@link #modelChanged(String, WindowRecorder.Window, ModelRef, ModelRef)}.
     */
    public void addSource(String key, WindowRecorder recorder, ModelRef current) {
        if (source(key) != null) {
            throw new IllegalArgumentException("telemetry source '" + key + "' exists");
        }
        sources.add(new Source(key, recorder, current));
    }

    private Source source(String key) {
        for (Source s : sources) {
            if (s.key.equals(key)) {
                return s;
            }
        }
        return null;
    }

    /** The ack timeout: twice the window, at least {@link #ACK_TIMEOUT_MS}. */
    long ackTimeoutMs() {
        return ackTimeoutMs > 0 ? ackTimeoutMs : Math.max(ACK_TIMEOUT_MS, 2000L * windowSeconds);
    }

    /** Overrides the ack timeout (tests, simulator). */
    public void setAckTimeoutMs(long ms) {
        this.ackTimeoutMs = ms;
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
        if (ackTimer == null) {
            ackTimer = agentThread.scheduleWithFixedDelay(() -> sender.execute(this::checkAckTimeout), 1, 1, TimeUnit.SECONDS);
        }
    }

    /**
     * Closes the current window of every model and sends them; the timer calls this on the agent thread.
     * A source that runs no model only reports when no source does (the device's window without a model).
     */
    public void closeWindow() {
        try {
            long now = clock.getAsLong();
            java.util.List<WindowRecorder.Window> cut = new java.util.ArrayList<>();
            java.util.List<ModelRef> refs = new java.util.ArrayList<>();
            WindowRecorder.Window idle = null;
            for (Source s : sources) {
                WindowRecorder.Window w = s.recorder.cut(now);
                ModelRef m = s.model;
                if (m != null) {
                    cut.add(w);
                    refs.add(m);
                } else if (idle == null) {
                    idle = w;
                }
            }
            if (cut.isEmpty() && idle != null) {
                cut.add(idle);
                refs.add(null);
            }
            java.util.List<EnergyMeter.WindowEnergy> energy = energyOf(cut);
            for (int i = 0; i < cut.size(); i++) {
                emit(cut.get(i), refs.get(i), energy == null ? null : energy.get(i));
            }
        } catch (RuntimeException | IOException e) {
            // A scheduled task that throws is never run again; log and keep the timer alive.
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry window failed: " + e);
        }
    }

    private java.util.List<EnergyMeter.WindowEnergy> energyOf(java.util.List<WindowRecorder.Window> windows) {
        EnergyMeter meter = energyMeter;
        if (meter == null) {
            return null;
        }
        long[] inferences = new long[windows.size()];
        long[] cpu = new long[windows.size()];
        for (int i = 0; i < windows.size(); i++) {
            inferences[i] = windows.get(i).inferences();
            cpu[i] = windows.get(i).cpuNanos();
        }
        return meter.cut(inferences, cpu);
    }

    /**
     * The model changes: {@code closed} is the window of the previous model, cut while no inference
     * was in flight. It is sent (if it saw any inference) and the timer restarts so the new model's
     * windows are full length.
     */
    public void modelChanged(WindowRecorder.Window closed, ModelRef previous, ModelRef next) {
        modelChanged("", closed, previous, next);
    }

    /** {@link #modelChanged(WindowRecorder.Window, ModelRef, ModelRef)} of the source {@code key}. */
    public void modelChanged(String key, WindowRecorder.Window closed, ModelRef previous, ModelRef next) {
        Source s = source(key);
        if (s != null) {
            s.model = next;
        }
        try {
            if (closed != null && closed.inferences() > 0) {
                EnergyMeter meter = energyMeter;
                emit(closed, previous, meter == null ? null : meter.cut(closed.inferences(), closed.cpuNanos()));
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry window failed: " + e);
        }
        // A lone model's next window is full length; with several, restarting would stretch the others' windows.
        if (timer != null && sources.stream().filter(x -> x.model != null).count() <= 1) {
            restartTimer();
        }
    }

    private void emit(WindowRecorder.Window w, ModelRef m, EnergyMeter.WindowEnergy e) throws IOException {
        long now = clock.getAsLong();
        long start = Math.max(1, w.start());
        Double energy;
        String energySource = null;
        Double energyJoules = null;
        if (e != null) {
            energy = e.millijoulesPerInference();
            energySource = e.source();
            energyJoules = e.joules();
        } else {
            energy = w.latency() == null ? null : Math.round(activeWatts * w.latency().mean() * 1000.0) / 1000.0;
        }
        DriftReport drift = w.drift();
        TelemetryWindow tw = new TelemetryWindow(Protocol.VERSION, Protocol.newMessageId(), now, deviceId, seq.next(),
                start, Math.max(start, w.end()), m, w.inferences(), w.errors(), w.latency(), energy,
                drift == null ? null : drift.psi(), buffer.takeDropped() + heldDropped.getAndSet(0), false, null,
                energySource, energyJoules, drift, w.modes());
        lastWindow = tw;
        agentThread.execute(() -> observer.accept(tw));
        sender.execute(() -> send(tw));
    }

    /**
     * Where the energy of each window comes from (sensor or power model); without one the window's
     * energy is the configured active watts × mean latency, as before the meter existed.
     */
    public void setEnergyMeter(EnergyMeter meter) {
        this.energyMeter = meter;
    }

    /** Reconnected: replay what waits on disk (everything unconfirmed, when the server acknowledges). */
    public void onConnected() {
        sender.execute(() -> {
            replayPending = true;
            drain();
        });
    }

    /** The server's cumulative acknowledgement arrived (any thread). */
    public void onAck(TelemetryAck ack) {
        if (!deviceId.equals(ack.deviceId())) {
            return;
        }
        sender.execute(() -> {
            try {
                if (!acksSeen) {
                    acksSeen = true;
                    io.edgefleet.agent.store.AtomicFiles.write(acksSeenFile, new byte[0]);
                }
                serverAcked = Math.max(serverAcked, ack.seq());
                buffer.removeUpTo(ack.seq());
                held.removeIf(h -> h.seq() <= ack.seq());
                heldCount = held.size();
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, deviceId + ": cannot apply telemetry ack " + ack.seq() + ": " + e);
            }
        });
    }

    /** Highest seq the server confirmed, -1 before the first acknowledgement. */
    public long serverAcked() {
        return serverAcked;
    }

    private void send(TelemetryWindow w) {
        try {
            // On disk first: a crash or a lost connection from here on cannot lose the window. A disk that
            // refuses (full, read-only, permission) gets it held in memory, in order, and counted if it overflows.
            moveHeldToDisk();
            boolean onDisk = false;
            if (held.isEmpty()) {
                try {
                    buffer.append(w);
                    onDisk = true;
                } catch (IOException e) {
                    hold(w, e);
                }
            } else {
                hold(w, null); // behind windows already held: keep the order
            }
            if (!link.isConnected()) {
                replayPending = true;
                return;
            }
            if (replayPending || !onDisk) {
                drain();
                return;
            }
            TelemetryWindow live = withBase(w, false);
            if (link.publishAndWait(topic, codec.encode(live), false, ACK_TIMEOUT_MS)) {
                if (!acksSeen) {
                    buffer.removeUpTo(w.seq());
                }
            } else {
                replayPending = true;
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": cannot buffer telemetry window " + w.seq() + ": " + e);
        }
    }

    /** The window as sent now: with the oldest seq still held as its ack base. */
    private TelemetryWindow withBase(TelemetryWindow w, boolean replay) throws IOException {
        long base = Math.min(w.seq(), buffer.oldestSeq().orElse(w.seq()));
        if (!held.isEmpty()) {
            base = Math.min(base, held.peekFirst().seq());
        }
        return replay ? w.asReplay(base) : w.withAckBase(base);
    }

    /** Unconfirmed windows have waited too long for the server: send them again. */
    private void checkAckTimeout() {
        try {
            if (!acksSeen || !link.isConnected() || (buffer.size() == 0 && held.isEmpty())) {
                return;
            }
            long now = clock.getAsLong();
            Optional<TelemetryWindow> oldest = buffer.peek().map(TelemetryBuffer.Entry::window)
                    .or(() -> Optional.ofNullable(held.peekFirst()));
            if (oldest.isPresent() && now - oldest.get().ts() > ackTimeoutMs()
                    && now - lastReplayAt > ackTimeoutMs()) {
                replayPending = true;
                drain();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry ack check failed: " + e);
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

    /** Sends every window held (disk, then memory), oldest first; stops at the first one the broker does not take. */
    private void drain() {
        try {
            moveHeldToDisk();
            for (TelemetryBuffer.Entry e : buffer.entries()) {
                if (!link.isConnected()) {
                    return;
                }
                // Same message id as the original: if the first attempt did arrive, the server drops the copy.
                if (!link.publishAndWait(topic, codec.encode(withBase(e.window(), true)), false, ACK_TIMEOUT_MS)) {
                    return;
                }
                if (!acksSeen) {
                    buffer.remove(e);
                }
            }
            // The disk is still refusing: send what memory holds, in order, straight from there; with server
            // acknowledgements they stay held until confirmed, like the disk's.
            for (TelemetryWindow h : new java.util.ArrayList<>(held)) {
                if (!link.isConnected()) {
                    return;
                }
                if (!link.publishAndWait(topic, codec.encode(withBase(h, true)), false, ACK_TIMEOUT_MS)) {
                    return;
                }
                if (!acksSeen) {
                    held.remove(h);
                    heldCount = held.size();
                }
            }
            replayPending = false;
            lastReplayAt = clock.getAsLong();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry replay failed: " + e);
        }
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
        if (ackTimer != null) {
            ackTimer.cancel(false);
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
