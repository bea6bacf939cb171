package io.edgefleet.agent.serving;

import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.protocol.ModelRef;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The active slot of one model as the inference API sees it: the loaded model and its version behind
 * a read-write lock. Every request holds a {@link Lease} (the read side) while it validates and runs;
 * {@link #swap} takes the write side, so it waits for the requests in flight, lets new ones wait the
 * few moments of the swap itself, and only then closes the old model. A request that arrives during
 * an update is therefore answered by whichever model is active when it gets its lease, and never by a
 * closed one.
 *
 * <p>Why a lock rather than a reference count: the swap also cuts the telemetry window with nothing
 * in flight (as the built-in inference loop does), so each window belongs to exactly one model. The
 * read side costs two atomic operations per request; a swap waits at most for one inference per
 * serving thread.
 */
public final class ServedModel {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private LoadedModel model;
    private ModelRef ref;
    private String notReady;
    private volatile String name;
    private final io.edgefleet.agent.inference.InferenceListener listener;

    /** A slot whose requests count with the service's listener. */
    public ServedModel() {
        this(null);
    }

    /** A slot whose requests count with its own listener (its model's telemetry window), or the service's when null. */
    public ServedModel(io.edgefleet.agent.inference.InferenceListener listener) {
        this.listener = listener;
    }

    /** The listener of this slot's inferences, or null for the service's. */
    public io.edgefleet.agent.inference.InferenceListener listener() {
        return listener;
    }

    /** The model name this slot answers to right now, or null when it holds nothing. */
    public String name() {
        return name;
    }

    /**
     * Holds the current model until {@link Lease#close()}; close it on the same thread, in a
     * try-with-resources block.
     */
    public Lease lease() {
        lock.readLock().lock();
        return new Lease();
    }

    /**
     * Puts {@code next} (with its version {@code ref}) into service once no request is in flight, runs
     * {@code whileIdle} at that moment (cutting the telemetry window, swapping the inference loop's
     * model), then closes the previous model. {@code next == null} takes the slot out of service.
     */
    public void swap(LoadedModel next, ModelRef nextRef, Runnable whileIdle) {
        LoadedModel old;
        lock.writeLock().lock();
        try {
            if (whileIdle != null) {
                whileIdle.run();
            }
            old = model;
            model = next;
            ref = next == null ? null : nextRef;
            notReady = null;
            name = ref == null ? null : ref.model();
        } finally {
            lock.writeLock().unlock();
        }
        if (old != null && old != next) {
            old.close();
        }
    }

    /**
     * The slot knows its model but cannot run it (it failed to load at start, or the agent is
     * stopping): requests get 503 with this reason instead of 404.
     */
    public void unavailable(ModelRef known, String reason, Runnable whileIdle) {
        LoadedModel old;
        lock.writeLock().lock();
        try {
            if (whileIdle != null) {
                whileIdle.run();
            }
            old = model;
            model = null;
            ref = known;
            notReady = reason;
            name = known == null ? null : known.model();
        } finally {
            lock.writeLock().unlock();
        }
        if (old != null) {
            old.close();
        }
    }

    /** The read side of the slot: the model, its version and why it is not ready, stable until closed. */
    public final class Lease implements AutoCloseable {
        private boolean released;

        private Lease() {
        }

        /** The loaded model, or null when the slot holds none (see {@link #notReadyReason()}). */
        public LoadedModel model() {
            return model;
        }

        public ModelRef ref() {
            return ref;
        }

        /** Where this slot's inferences are counted, or null for the service's listener. */
        public io.edgefleet.agent.inference.InferenceListener listener() {
            return listener;
        }

        public String notReadyReason() {
            return notReady != null ? notReady : "no model is loaded";
        }

        @Override
        public void close() {
            if (!released) {
                released = true;
                lock.readLock().unlock();
            }
        }
    }
}
