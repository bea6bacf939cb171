package io.edgefleet.agent.telemetry;

import io.edgefleet.agent.energy.EnergyMeter;
import io.edgefleet.agent.exec.StepQueue;
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
import java.util.concurrent.CompletableFuture;
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
 * broker's PUBACK, as before. Windows are cut on the agent thread; sending runs as steps of a
 * {@link StepQueue} on the sender executor: one step at a time, in order, and a step that publishes ends
 * at the broker's PUBACK (or its timeout) without a thread waiting for it, so many agents' in-flight
 * publishes share the sender pool's few threads.
 */
public final class TelemetryService implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TelemetryService.class.getName());
    static final long ACK_TIMEOUT_MS = 10_000;
    /** The ack timeout is at least this many times the server's recent acknowledgement lag. */
    static final long LAG_FACTOR = 3;
    /** The adaptive ack timeout never exceeds this: a lost window waits at most this long for its replay. */
    static final long MAX_ADAPTIVE_TIMEOUT_MS = 5 * 60_000;
    /** Send times kept for the lag of acknowledgements (newest seqs). */
    static final int SEND_TIMES_MAX = 512;
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
    /** The sender's steps (sends, replays, acks, ack checks): one at a time, none holding a thread while it waits. */
    private final StepQueue steps;
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
    private volatile long serverAcked = -1;
    private ScheduledFuture<?> ackTimer;
    private volatile long ackTimeoutMs;
    private volatile long ackLagMs;
    private final java.util.TreeMap<Long, Long> sendTimes = new java.util.TreeMap<>();
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
        this.steps = new StepQueue("telemetry-" + deviceId, this.sender);
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

    /**
     * The ack timeout: twice the window, at least {@link #ACK_TIMEOUT_MS}, and at least {@link #LAG_FACTOR} times the
     * server's recent acknowledgement lag (up to {@link #MAX_ADAPTIVE_TIMEOUT_MS}). A server that stores behind the
     * fleet's rate confirms late, not never: replaying what it is about to confirm only adds to its queue (the
     * 10,000-agent run stored 27 % of what it received twice with a fixed 20 s timeout). A window lost on the way
     * still stops the cumulative acknowledgement, so it is replayed, only later when the server is slow.
     */
    long ackTimeoutMs() {
        long fixed = ackTimeoutMs > 0 ? ackTimeoutMs : Math.max(ACK_TIMEOUT_MS, 2000L * windowSeconds);
        return Math.max(fixed, Math.min(MAX_ADAPTIVE_TIMEOUT_MS, LAG_FACTOR * ackLagMs));
    }

    /** The server's recent acknowledgement lag (send to confirmation), rising at once and falling slowly; 0 unknown. */
    public long ackLagMs() {
        return ackLagMs;
    }

    /**
     * A window the broker took at {@code now} (its PUBACK, live or replayed): the lag of its confirmation is counted
     * from here, so the time a window waited offline or for the broker is not the server's.
     */
    private void sentAt(long seq, long now) {
        if (seq <= serverAcked) {
            return; // confirmed before its PUBACK was handled
        }
        synchronized (sendTimes) {
            sendTimes.put(seq, now);
            while (sendTimes.size() > SEND_TIMES_MAX) {
                sendTimes.pollFirstEntry();
            }
        }
    }

    /** Samples the lag of an acknowledgement up to {@code seq}: the longest wait among the windows it confirms. */
    private void ackLagSample(long seq, long now) {
        long longest = -1;
        synchronized (sendTimes) {
            java.util.NavigableMap<Long, Long> confirmed = sendTimes.headMap(seq, true);
            for (long t : confirmed.values()) {
                longest = Math.max(longest, now - t);
            }
            confirmed.clear();
        }
        if (longest < 0) {
            return;
        }
        long lag = ackLagMs;
        // Fast attack, slow release: one slow acknowledgement is enough to stop a replay storm, and the lag
        // decays over about ten acknowledgements once the server has caught up.
        ackLagMs = longest >= lag ? longest : (long) (0.9 * lag + 0.1 * longest);
    }

    /** Overrides the fixed floor of the ack timeout (tests); the server's lag still raises it. */
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
            ackTimer = agentThread.scheduleWithFixedDelay(() -> steps.submit(this::checkAckTimeout), 1, 1, TimeUnit.SECONDS);
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
        String source = energySource;
        Double joules = energyJoules;
        String messageId = Protocol.newMessageId();
        java.util.function.BiFunction<Long, Long, TelemetryWindow> window = (seqNo, dropped) -> new TelemetryWindow(
                Protocol.VERSION, messageId, now, deviceId, seqNo, start, Math.max(start, w.end()), m, w.inferences(),
                w.errors(), w.latency(), energy, drift == null ? null : drift.psi(), dropped, false, null, source, joules,
                drift, w.modes());
        // The observers (health checks, degradation) read the window's model and numbers, never its seq or dropped
        // count, and see it in cut order on the agent thread, as before.
        TelemetryWindow cut = window.apply(-1L, 0L);
        agentThread.execute(() -> observer.accept(cut));
        // Numbered on the sender's step, not here: the seq counter and the dropped count are file writes, and the
        // agent thread runs on the CPU-sized work pool that every agent of a simulator shares (docs/scale.md).
        // Steps run in order, so seqs still follow the order windows are cut.
        steps.submit(() -> {
            TelemetryWindow tw;
            try {
                tw = window.apply(seq.next(), buffer.takeDropped() + heldDropped.getAndSet(0));
            } catch (IOException | RuntimeException ex) {
                LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry window failed: " + ex);
                return DONE;
            }
            lastWindow = tw;
            return send(tw);
        });
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
        steps.submit(() -> {
            replayPending = true;
            return drain();
        });
    }

    /** The server's cumulative acknowledgement arrived (any thread). */
    public void onAck(TelemetryAck ack) {
        if (!deviceId.equals(ack.deviceId())) {
            return;
        }
        steps.execute(() -> {
            try {
                if (!acksSeen) {
                    acksSeen = true;
                    io.edgefleet.agent.store.AtomicFiles.write(acksSeenFile, new byte[0]);
                }
                serverAcked = Math.max(serverAcked, ack.seq());
                ackLagSample(ack.seq(), clock.getAsLong());
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

    /** One send step: buffer the window, then publish it live (or replay first); over at the PUBACK. */
    private CompletableFuture<Void> send(TelemetryWindow w) {
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
                return DONE;
            }
            if (replayPending || !onDisk) {
                return drain();
            }
            TelemetryWindow live = withBase(w, false);
            return publish(codec.encode(live)).thenAcceptAsync(delivered -> {
                try {
                    if (delivered) {
                        sentAt(w.seq(), clock.getAsLong());
                        if (!acksSeen) {
                            buffer.removeUpTo(w.seq());
                        }
                    } else {
                        replayPending = true;
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry window " + w.seq() + " sent, buffer not"
                            + " updated: " + e);
                }
            }, sender);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": cannot buffer telemetry window " + w.seq() + ": " + e);
            return DONE;
        }
    }

    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    /**
     * QoS 1 publish of one window: true at the broker's PUBACK, false when it was not delivered or the PUBACK did
     * not come within {@link #ACK_TIMEOUT_MS} (as the blocking send used to wait). Never completes exceptionally.
     */
    private CompletableFuture<Boolean> publish(byte[] payload) {
        CompletableFuture<Boolean> f;
        try {
            f = link.publishAsync(topic, payload, false);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(false);
        }
        return f.handle((ok, err) -> err == null && Boolean.TRUE.equals(ok))
                .completeOnTimeout(false, ACK_TIMEOUT_MS, TimeUnit.MILLISECONDS);
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
    private CompletableFuture<Void> checkAckTimeout() {
        try {
            if (!acksSeen || !link.isConnected() || (buffer.size() == 0 && held.isEmpty())) {
                return DONE;
            }
            long now = clock.getAsLong();
            Optional<TelemetryWindow> oldest = buffer.peek().map(TelemetryBuffer.Entry::window)
                    .or(() -> Optional.ofNullable(held.peekFirst()));
            if (oldest.isPresent() && now - oldest.get().ts() > ackTimeoutMs()
                    && now - lastReplayAt > ackTimeoutMs()) {
                replayPending = true;
                return drain();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry ack check failed: " + e);
        }
        return DONE;
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

    /**
     * Sends every window held (disk, then memory), oldest first, each after the previous one's PUBACK; stops at
     * the first one the broker does not take. Over when the last PUBACK arrived (or sending stopped).
     */
    private CompletableFuture<Void> drain() {
        try {
            moveHeldToDisk();
            Replay r = new Replay(buffer.entries(), new java.util.ArrayList<>(held));
            r.next();
            return r.done;
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry replay failed: " + e);
            return DONE;
        }
    }

    /**
     * One replay in progress: the disk's windows, then (while the disk still refuses) what memory holds, straight
     * from there; with server acknowledgements they stay held until confirmed, like the disk's. Each step runs on
     * the sender executor while the step queue waits for {@link #done}.
     */
    private final class Replay {
        final java.util.List<TelemetryBuffer.Entry> disk;
        final java.util.List<TelemetryWindow> memory;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        int index;

        Replay(java.util.List<TelemetryBuffer.Entry> disk, java.util.List<TelemetryWindow> memory) {
            this.disk = disk;
            this.memory = memory;
        }

        void next() {
            try {
                if (index == disk.size() + memory.size()) {
                    replayPending = false;
                    lastReplayAt = clock.getAsLong();
                    done.complete(null);
                    return;
                }
                if (!link.isConnected()) {
                    done.complete(null);
                    return;
                }
                boolean fromDisk = index < disk.size();
                TelemetryBuffer.Entry e = fromDisk ? disk.get(index) : null;
                TelemetryWindow h = fromDisk ? null : memory.get(index - disk.size());
                // Same message id as the original: if the first attempt did arrive, the server drops the copy.
                TelemetryWindow w = fromDisk ? e.window() : h;
                publish(codec.encode(withBase(w, true))).thenAcceptAsync(delivered -> {
                    try {
                        if (!delivered) {
                            done.complete(null);
                            return;
                        }
                        sentAt(w.seq(), clock.getAsLong());
                        if (!acksSeen) {
                            if (fromDisk) {
                                buffer.remove(e);
                            } else {
                                held.remove(h);
                                heldCount = held.size();
                            }
                        }
                        index++;
                        next();
                    } catch (IOException | RuntimeException x) {
                        fail(x);
                    }
                }, sender).exceptionally(x -> {
                    fail(x);
                    return null;
                });
            } catch (IOException | RuntimeException x) {
                fail(x);
            }
        }

        void fail(Throwable x) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry replay failed: " + x);
            done.complete(null);
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
            steps.barrier().get(timeoutMs, TimeUnit.MILLISECONDS);
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
        // What is queued gets the time the sender thread used to get to finish its queue.
        flush(2000);
        steps.close();
        sender.shutdown();
        try {
            sender.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.shutdownNow();
    }
}
