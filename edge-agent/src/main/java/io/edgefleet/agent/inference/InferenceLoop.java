package io.edgefleet.agent.inference;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A thread that runs one inference every {@code intervalMs} on the current model and reports each
 * outcome. Swapping the model waits for the inference in flight, so the old model is closed only
 * when nothing uses it any more.
 */
public final class InferenceLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(InferenceLoop.class.getName());

    private final Object runLock = new Object();
    private final InferenceListener listener;
    private final double speedFactor;
    private final Thread thread;
    private volatile long intervalNanos;
    private volatile boolean running = true;
    private LoadedModel current;
    private long errorsLogged;

    public InferenceLoop(String name, InferenceListener listener, double speedFactor, long intervalMs) {
        this.listener = listener;
        this.speedFactor = speedFactor;
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
        this.thread = new Thread(this::loop, name);
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    public void setIntervalMs(long intervalMs) {
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
        LockSupport.unpark(thread);
    }

    public long intervalMs() {
        return TimeUnit.NANOSECONDS.toMillis(intervalNanos);
    }

    public boolean hasModel() {
        synchronized (runLock) {
            return current != null;
        }
    }

    /**
     * Replaces the running model (null = run nothing). {@code whileIdle} runs while no inference is in
     * flight, e.g. to close the telemetry window of the old model. The old model is closed.
     */
    public void swap(LoadedModel next, Runnable whileIdle) {
        LoadedModel old = replace(next, whileIdle);
        if (old != null && old != next) {
            old.close();
        }
    }

    /**
     * Like {@link #swap} but leaves the old model open and returns it, for an owner that shares the
     * model with other users (the inference API) and closes it once all of them let go.
     */
    public LoadedModel replace(LoadedModel next, Runnable whileIdle) {
        synchronized (runLock) {
            if (whileIdle != null) {
                whileIdle.run();
            }
            LoadedModel old = current;
            current = next;
            errorsLogged = 0;
            return old;
        }
    }

    private void loop() {
        long next = System.nanoTime();
        while (running) {
            runOnce();
            next += intervalNanos;
            long now = System.nanoTime();
            if (next < now) {
                // Slower than the interval: start the next one right away rather than bursting to catch up.
                next = now;
            }
            while (running && (now = System.nanoTime()) < next) {
                LockSupport.parkNanos(this, next - now);
                if (Thread.interrupted()) {
                    return;
                }
            }
        }
    }

    private void runOnce() {
        synchronized (runLock) {
            if (current == null) {
                return;
            }
            long start = System.nanoTime();
            long cpuStart = CpuTime.currentThread();
            try {
                Observation seen = current.inferObserved();
                long cpu = CpuTime.currentThread() - cpuStart;
                long elapsed = System.nanoTime() - start;
                if (speedFactor > 1.0) {
                    // Emulates a slower board: the inference takes factor x as long in total.
                    long extra = (long) ((speedFactor - 1.0) * elapsed);
                    LockSupport.parkNanos(this, extra);
                }
                listener.onInference(System.nanoTime() - start, cpu, seen);
            } catch (Exception | LinkageError e) {
                if (!running) {
                    return; // interrupted by close(): not the model's fault
                }
                listener.onError(e);
                if (errorsLogged++ < 3) {
                    LOG.log(System.Logger.Level.WARNING, thread.getName() + ": inference failed: " + e);
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        swap(null, null);
    }
}
