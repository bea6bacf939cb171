package io.edgefleet.server.mqtt;

import io.edgefleet.protocol.Topics;
import io.edgefleet.server.config.EdgefleetConfig;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Hands inbound device messages from Paho's callback thread to a few worker threads through
 * bounded queues. A device always maps to the same worker, so its messages are handled in arrival
 * order. Each message is acknowledged to the broker only after the worker's batch committed; a
 * full queue blocks the callback (the broker then holds further messages, within the Receive
 * Maximum), nothing is dropped. A worker survives any {@link Throwable} (its batch is left
 * unacknowledged, counted) and is replaced if its thread dies anyway; {@link #stalled} tells the
 * health check when a queue is not draining.
 */
@ApplicationScoped
public class InboundDispatcher {
    private static final Logger LOG = Logger.getLogger(InboundDispatcher.class);
    /** Acknowledgement of a message that needs none (QoS 0, tests). */
    public static final Runnable NO_ACK = () -> { };

    /**
     * One inbound device message, not yet decoded, with the action that acknowledges it to the broker;
     * {@code retained}: the broker's retained copy, delivered because this server subscribed.
     */
    public record Inbound(Topics.Kind kind, String deviceId, byte[] payload, long receivedAt, Runnable ack,
                          boolean retained) {
        public Inbound(Topics.Kind kind, String deviceId, byte[] payload, long receivedAt, Runnable ack) {
            this(kind, deviceId, payload, receivedAt, ack, false);
        }

        public Inbound(Topics.Kind kind, String deviceId, byte[] payload, long receivedAt) {
            this(kind, deviceId, payload, receivedAt, NO_ACK, false);
        }
    }

    /** One worker: its queue, its thread, and when it last finished a batch (or found nothing to do). */
    private final class Worker {
        final int index;
        final BlockingQueue<Inbound> queue;
        volatile Thread thread;
        volatile long lastProgress = System.currentTimeMillis();
        /** Arrival of the oldest message of the batch being processed, 0 while none is. */
        volatile long batchOldest;
        volatile int batchSize;

        Worker(int index, BlockingQueue<Inbound> queue) {
            this.index = index;
            this.queue = queue;
        }

        void startThread() {
            Thread t = new Thread(() -> work(this), "edgefleet-ingest-" + index);
            t.setDaemon(true);
            thread = t;
            t.start();
        }
    }

    @Inject
    EdgefleetConfig config;

    @Inject
    IngestStats stats;

    @Inject
    InboundProcessor processor;

    private final RateLimitedLog backpressureLog = new RateLimitedLog(LOG, 10_000);
    private final RateLimitedLog foreignLog = new RateLimitedLog(LOG, 60_000);
    private List<Worker> workers;
    private int maxBatch;
    private int receiveMaximum;
    private volatile boolean running;
    /** When Paho's callback last found a worker queue full (epoch ms, 0: never): the broker was held back. */
    private volatile long lastBackpressureAt;

    @PostConstruct
    void init() {
        int n = Math.max(1, config.mqtt().ingestWorkers());
        int capacity = Math.max(16, config.mqtt().ingestQueueSize());
        maxBatch = Math.max(1, config.mqtt().ingestBatchSize());
        receiveMaximum = Math.max(1, config.mqtt().receiveMaximum());
        workers = new ArrayList<>(n);
        running = true;
        for (int i = 0; i < n; i++) {
            Worker w = new Worker(i, new ArrayBlockingQueue<>(capacity));
            workers.add(w);
            w.startThread();
        }
    }

    /**
     * Stops taking messages, lets the workers commit and acknowledge what is queued for up to
     * {@code timeoutMs}, then stops them; what is left stays unacknowledged (counted) and comes again.
     */
    public void drain(long timeoutMs) {
        if (!running) {
            return;
        }
        running = false;
        long deadline = System.currentTimeMillis() + timeoutMs;
        for (Worker w : workers) {
            Thread t = w.thread;
            try {
                t.join(Math.max(1, deadline - System.currentTimeMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                t.interrupt();
            }
        }
        int left = queued();
        if (left > 0) {
            stats.leftUnacked(left);
            LOG.infof("stopping: %d inbound message(s) not committed are left unacknowledged for redelivery", left);
        }
    }

    /** Called on Paho's callback thread: classify, route, return (or wait while the worker's queue is full). */
    public void accept(String topic, byte[] payload, Runnable ack) {
        accept(topic, payload, false, ack);
    }

    /** As above; {@code retained} marks the broker's retained copy of a message (see {@link Inbound}). */
    public void accept(String topic, byte[] payload, boolean retained, Runnable ack) {
        Topics.Parsed parsed = Topics.parse(topic).orElse(null);
        if (parsed == null || !java.util.Arrays.asList(IngestStats.INBOUND).contains(parsed.kind())) {
            stats.foreignTopic();
            foreignLog.warn("ignoring a message on topic '" + topic + "', which is not a device status/events/telemetry topic");
            ack.run();
            return;
        }
        stats.received(parsed.kind());
        Inbound in = new Inbound(parsed.kind(), parsed.deviceId(), payload, System.currentTimeMillis(), ack, retained);
        Worker w = workers.get(Math.floorMod(parsed.deviceId().hashCode(), workers.size()));
        long waitStart = System.currentTimeMillis();
        if (w.queue.offer(in)) {
            if (pending() >= receiveMaximum) {
                // As many unacknowledged messages as the broker may send: it holds back the rest.
                lastBackpressureAt = waitStart;
            }
            return;
        }
        // Full: the broker is held back, so until the queue takes this message silence cannot be judged.
        lastBackpressureAt = waitStart;
        try {
            while (!w.queue.offer(in, 1, TimeUnit.SECONDS)) {
                lastBackpressureAt = System.currentTimeMillis();
                backpressureLog.warn("ingest queue " + w.index + " full: holding back the broker (no message is dropped)");
                if (!running) {
                    stats.leftUnacked(1);
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stats.leftUnacked(1);
        } finally {
            long end = System.currentTimeMillis();
            lastBackpressureAt = end;
            if (end > waitStart) {
                stats.backpressureWait(end - waitStart);
            }
        }
    }

    /** For tests and callers without acknowledgements. */
    public void accept(String topic, byte[] payload) {
        accept(topic, payload, NO_ACK);
    }

    /**
     * Up to when this server has heard everything the broker handed it: the arrival time of the oldest message
     * received and not yet committed or judged, or {@code now} when there is none. A device's last sign of life
     * in the database is exact up to this point and may lag behind it.
     */
    public long heardUpTo(long now) {
        long horizon = now;
        for (Worker w : workers) {
            long b = w.batchOldest;
            if (b > 0) {
                horizon = Math.min(horizon, b);
            }
            Inbound head = w.queue.peek();
            if (head != null) {
                horizon = Math.min(horizon, head.receivedAt());
            }
        }
        return horizon;
    }

    /** Messages received and not yet committed or judged: queued or in a batch being processed. */
    public int pending() {
        int n = 0;
        for (Worker w : workers) {
            n += w.queue.size() + w.batchSize;
        }
        return n;
    }

    /**
     * When the broker was last held back (epoch ms, 0 if never): Paho's callback had to wait for a full ingest
     * queue, or as many messages were pending as the Receive Maximum lets the broker send unacknowledged.
     */
    public long lastBackpressureAt() {
        return lastBackpressureAt;
    }

    public int queued() {
        return workers.stream().mapToInt(w -> w.queue.size()).sum();
    }

    /**
     * Why ingest is not healthy, or null: a worker thread is dead (and is replaced now), or a worker has
     * messages queued and finished no batch within {@code bound}.
     */
    public String stalled(java.time.Duration bound) {
        long now = System.currentTimeMillis();
        String why = null;
        for (Worker w : workers) {
            Thread t = w.thread;
            if (running && (t == null || !t.isAlive())) {
                LOG.errorf("ingest worker %d died; starting a new one", w.index);
                stats.workerRestarted();
                w.lastProgress = now;
                w.startThread();
                why = "ingest worker " + w.index + " died and was replaced";
                continue;
            }
            if (!w.queue.isEmpty() && now - w.lastProgress > bound.toMillis()) {
                why = "ingest worker " + w.index + " has " + w.queue.size() + " message(s) queued and made no progress for "
                        + (now - w.lastProgress) / 1000 + " s";
            }
        }
        return why;
    }

    private void work(Worker w) {
        List<Inbound> batch = new ArrayList<>(maxBatch);
        BlockingQueue<Inbound> q = w.queue;
        while (true) {
            if ((!running && q.isEmpty()) || Thread.currentThread().isInterrupted() || w.thread != Thread.currentThread()) {
                return;
            }
            try {
                Inbound first = q.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    w.lastProgress = System.currentTimeMillis();
                    if (!running) {
                        return;
                    }
                    continue;
                }
                w.batchOldest = first.receivedAt();
                batch.add(first);
                q.drainTo(batch, maxBatch - 1);
                w.batchSize = batch.size();
                java.util.Set<Inbound> unfinished = processor.process(batch);
                for (Inbound in : batch) {
                    if (!unfinished.contains(in)) {
                        in.ack().run();
                        stats.acked();
                    }
                }
                if (!unfinished.isEmpty()) {
                    stats.leftUnacked(unfinished.size());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable e) {
                // The worker never dies: the batch stays unacknowledged (the broker redelivers it on the next
                // connection, agents replay unconfirmed telemetry) and the next batch proceeds.
                stats.processingError();
                stats.leftUnacked(batch.size());
                try {
                    LOG.errorf(e, "ingest batch of %d messages failed; left unacknowledged", batch.size());
                } catch (Throwable ignored) {
                    // even logging can fail under OutOfMemoryError
                }
            } finally {
                w.batchOldest = 0;
                w.batchSize = 0;
                batch.clear();
                w.lastProgress = System.currentTimeMillis();
            }
        }
    }
}
