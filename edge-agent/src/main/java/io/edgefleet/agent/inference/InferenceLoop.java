package io.edgefleet.agent.inference;

import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs one inference every {@code intervalMs} on the current model and reports each outcome. Ticks are
 * scheduled tasks, not a thread of their own: a timer fires them and a worker pool runs them (shared by
 * every agent of a simulator, or the agent's own), one at a time per loop. Swapping the model waits for the
 * inference in flight, so the old model is closed only when nothing uses it any more.
 *
 * <p>A speed factor above 1 emulates a slower board without holding a worker: the reported latency is the
 * measured one times the factor, and the next inference starts no earlier than that emulated duration after
 * the previous one started.
 */
public final class InferenceLoop implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(InferenceLoop.class.getName());

    private final Object runLock = new Object();
    private final String name;
    private final InferenceListener listener;
    private final double speedFactor;
    private final ScheduledExecutorService timer;
    private final Executor work;
    /** The loop's own timer thread when it was not given shared ones (tests, tools). */
    private final ScheduledExecutorService own;
    private volatile long intervalNanos;
    private volatile boolean running = true;
    private volatile boolean started;
    private LoadedModel current;
    private long errorsLogged;
    /** Guarded by {@code this}: the scheduled next tick, and when it is due (nanoTime). */
    private ScheduledFuture<?> nextTick;
    private long nextDue;
    private boolean ticking;

    /** A loop with a timer thread of its own. */
    public InferenceLoop(String name, InferenceListener listener, double speedFactor, long intervalMs) {
        this(name, listener, speedFactor, intervalMs, null, null);
    }

    /**
     * A loop on shared executors.
     *
     * @param timer fires the ticks (only hands them on)
     * @param work  runs the inferences
     */
    public InferenceLoop(String name, InferenceListener listener, double speedFactor, long intervalMs,
                         ScheduledExecutorService timer, Executor work) {
        this.name = name;
        this.listener = listener;
        this.speedFactor = speedFactor;
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
        if (timer == null) {
            this.own = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            });
            this.timer = own;
            this.work = own;
        } else {
            this.own = null;
            this.timer = timer;
            this.work = work;
        }
    }

    public void start() {
        started = true;
        scheduleAt(System.nanoTime());
    }

    public void setIntervalMs(long intervalMs) {
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMs);
        if (started) {
            // Takes effect now rather than after the old (possibly long) interval.
            synchronized (this) {
                if (!ticking && nextTick != null && nextTick.cancel(false)) {
                    nextTick = null;
                }
            }
            scheduleAt(System.nanoTime());
        }
    }

    public long intervalMs() {
        return TimeUnit.NANOSECONDS.toMillis(intervalNanos);
    }

    private synchronized void scheduleAt(long dueNanos) {
        if (!running || ticking || (nextTick != null && !nextTick.isDone())) {
            return;
        }
        nextDue = dueNanos;
        long delay = Math.max(0, dueNanos - System.nanoTime());
        try {
            nextTick = timer.schedule(this::fire, delay, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            running = false; // the executors are closing
        }
    }

    /** On the timer: hand the inference to the worker pool. */
    private void fire() {
        synchronized (this) {
            if (!running || ticking) {
                return;
            }
            ticking = true;
            nextTick = null;
        }
        try {
            work.execute(this::tick);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            synchronized (this) {
                ticking = false;
                running = false;
            }
        }
    }

    private void tick() {
        long due;
        long busyNanos;
        try {
            long start = System.nanoTime();
            busyNanos = runOnce();
            due = Math.max(nextDue + intervalNanos, start + busyNanos);
        } finally {
            synchronized (this) {
                ticking = false;
                notifyAll();
            }
        }
        long now = System.nanoTime();
        // Slower than the interval: start the next one right away rather than bursting to catch up.
        scheduleAt(Math.max(due, now));
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

    /** One inference; returns how long it took as emulated (measured x speed factor), 0 without a model. */
    private long runOnce() {
        synchronized (runLock) {
            if (current == null || !running) {
                return 0;
            }
            long start = System.nanoTime();
            long cpuStart = CpuTime.currentThread();
            try {
                // Latency is the model's own run, as for an inference API request (which also counts converting the
                // caller's tensors): not the feed preparing the next input, not the copy kept for drift; a
                // synthetic stream's draw, or a wait for a core in between, would otherwise count as the model's.
                long[] modelNanos = new long[1];
                Observation seen = current.inferTimed(n -> modelNanos[0] += n);
                long cpu = CpuTime.currentThread() - cpuStart;
                long elapsed = modelNanos[0];
                long emulated = speedFactor > 1.0 ? (long) (speedFactor * elapsed) : elapsed;
                listener.onInference(emulated, cpu, seen);
                return emulated;
            } catch (Exception | LinkageError e) {
                if (!running) {
                    return 0; // closing: not the model's fault
                }
                listener.onError(e);
                if (errorsLogged++ < 3) {
                    LOG.log(System.Logger.Level.WARNING, name + ": inference failed: " + e);
                }
                return System.nanoTime() - start;
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            running = false;
            if (nextTick != null) {
                nextTick.cancel(false);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (ticking && System.nanoTime() < deadline) {
                try {
                    wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (own != null) {
            own.shutdownNow();
        }
        swap(null, null);
    }
}
