package io.edgefleet.server.mqtt;

import io.edgefleet.protocol.Topics;
import io.edgefleet.server.config.EdgefleetConfig;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
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
 * order; a full queue makes the callback wait briefly (backpressure through the broker's flow
 * control) and only then drops the message, counted.
 */
@ApplicationScoped
public class InboundDispatcher {
    private static final Logger LOG = Logger.getLogger(InboundDispatcher.class);
    private static final int MAX_BATCH = 500;
    private static final long OFFER_TIMEOUT_MS = 5_000;

    /** One inbound device message, not yet decoded. */
    public record Inbound(Topics.Kind kind, String deviceId, byte[] payload, long receivedAt) {
    }

    @Inject
    EdgefleetConfig config;

    @Inject
    IngestStats stats;

    @Inject
    InboundProcessor processor;

    private final RateLimitedLog overloadLog = new RateLimitedLog(LOG, 10_000);
    private final RateLimitedLog foreignLog = new RateLimitedLog(LOG, 60_000);
    private List<BlockingQueue<Inbound>> queues;
    private List<Thread> workers;
    private volatile boolean running;

    @PostConstruct
    void init() {
        int n = Math.max(1, config.mqtt().ingestWorkers());
        int capacity = Math.max(16, config.mqtt().ingestQueueSize());
        queues = new ArrayList<>(n);
        workers = new ArrayList<>(n);
        running = true;
        for (int i = 0; i < n; i++) {
            BlockingQueue<Inbound> q = new ArrayBlockingQueue<>(capacity);
            queues.add(q);
            Thread t = new Thread(() -> work(q), "edgefleet-ingest-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    void onStop(@Observes @Priority(200) ShutdownEvent event) {
        running = false;
        for (Thread t : workers) {
            t.interrupt();
        }
    }

    /** Called on Paho's callback thread: classify, route, return quickly. */
    public void accept(String topic, byte[] payload) {
        Topics.Parsed parsed = Topics.parse(topic).orElse(null);
        if (parsed == null || !(parsed.kind() == Topics.Kind.STATUS || parsed.kind() == Topics.Kind.EVENTS
                || parsed.kind() == Topics.Kind.TELEMETRY)) {
            stats.foreignTopic();
            foreignLog.warn("ignoring a message on topic '" + topic + "', which is not a device status/events/telemetry topic");
            return;
        }
        stats.received(parsed.kind());
        Inbound in = new Inbound(parsed.kind(), parsed.deviceId(), payload, System.currentTimeMillis());
        BlockingQueue<Inbound> q = queues.get(Math.floorMod(parsed.deviceId().hashCode(), queues.size()));
        try {
            if (!q.offer(in, OFFER_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                stats.overloadDropped();
                overloadLog.warn("ingest queue full for " + OFFER_TIMEOUT_MS + " ms: dropped a " + parsed.kind()
                        + " message of device " + parsed.deviceId());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stats.overloadDropped();
        }
    }

    public int queued() {
        return queues.stream().mapToInt(BlockingQueue::size).sum();
    }

    private void work(BlockingQueue<Inbound> q) {
        List<Inbound> batch = new ArrayList<>(MAX_BATCH);
        while (running) {
            try {
                Inbound first = q.poll(1, TimeUnit.SECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                q.drainTo(batch, MAX_BATCH - 1);
                processor.process(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // The consumer never dies: whatever went wrong is logged and the next batch proceeds.
                stats.processingError();
                LOG.errorf(e, "ingest batch of %d messages failed", batch.size());
            } finally {
                batch.clear();
            }
        }
    }
}
