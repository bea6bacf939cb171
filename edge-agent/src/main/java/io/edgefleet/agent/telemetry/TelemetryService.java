package io.edgefleet.agent.telemetry;

import io.edgefleet.agent.energy.EnergyMeter;
import io.edgefleet.agent.mqtt.Link;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
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
    private volatile TelemetryWindow lastWindow;
    private volatile EnergyMeter energyMeter;

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
        Double energy;
        String energySource = null;
        Double energyJoules = null;
        EnergyMeter meter = energyMeter;
        if (meter != null) {
            EnergyMeter.WindowEnergy e = meter.cut(w.inferences(), w.cpuNanos());
            energy = e.millijoulesPerInference();
            energySource = e.source();
            energyJoules = e.joules();
        } else {
            energy = w.latency() == null ? null : Math.round(activeWatts * w.latency().mean() * 1000.0) / 1000.0;
        }
        DriftReport drift = w.drift();
        TelemetryWindow tw = new TelemetryWindow(Protocol.VERSION, Protocol.newMessageId(), now, deviceId, seq.next(),
                start, Math.max(start, w.end()), m, w.inferences(), w.errors(), w.latency(), energy,
                drift == null ? null : drift.psi(), buffer.takeDropped(), false, energySource, energyJoules, drift);
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

    /** Reconnected: replay what waits on disk. */
    public void onConnected() {
        sender.execute(this::drain);
    }

    private void send(TelemetryWindow w) {
        try {
            if (buffer.size() == 0 && link.isConnected() && link.publishAndWait(topic, codec.encode(w), false, ACK_TIMEOUT_MS)) {
                return;
            }
            buffer.append(w);
            drain();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": cannot buffer telemetry window " + w.seq() + ": " + e);
        }
    }

    private void drain() {
        try {
            while (link.isConnected()) {
                Optional<TelemetryBuffer.Entry> e = buffer.peek();
                if (e.isEmpty()) {
                    return;
                }
                TelemetryWindow w = e.get().window();
                // Same message id as the original: if the first attempt did arrive, the server drops the copy.
                TelemetryWindow replay = w.asReplay();
                if (!link.publishAndWait(topic, codec.encode(replay), false, ACK_TIMEOUT_MS)) {
                    return;
                }
                buffer.remove(e.get());
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, deviceId + ": telemetry replay failed: " + e);
        }
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
