package io.edgefleet.server.telemetry;

import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.TelemetryAck;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.mqtt.IngestStats;
import io.edgefleet.server.mqtt.MqttGateway;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Publishes the cumulative telemetry acknowledgement ({@link TelemetryAck} on {@code devices/{id}/ack})
 * after windows are committed. Acks are coalesced: at most one per device per tick, carrying the
 * device's current {@link AckWatermarks watermark}; QoS 0, because a lost ack is repaired by the
 * next one or by the agent's replay.
 */
@ApplicationScoped
public class TelemetryAcks {
    private static final Logger LOG = Logger.getLogger(TelemetryAcks.class);
    static final long TICK_MS = 200;
    /** Devices whose gaps are looked up in the database per tick, and how often per device. */
    static final int GAP_LOOKUPS_PER_TICK = 200;
    static final long GAP_LOOKUP_EVERY_MS = 1_000;

    @Inject
    MqttGateway gateway;

    @Inject
    TelemetryIngest ingest;

    @Inject
    IngestStats stats;

    private final AckWatermarks watermarks = new AckWatermarks();
    private final JsonCodec codec = new JsonCodec();
    private final Map<String, Long> lastGapLookup = new HashMap<>();
    private ScheduledExecutorService timer;

    void onStart(@Observes StartupEvent event) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "edgefleet-telemetry-acks");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** Called after the transaction that stored (or found) these windows committed. */
    public void committed(List<TelemetryIngest.Committed> windows) {
        for (TelemetryIngest.Committed c : windows) {
            watermarks.committed(c.deviceId(), c.seq(), c.ackBase());
        }
    }

    public long acked(String deviceId) {
        return watermarks.acked(deviceId);
    }

    void tick() {
        try {
            lookUpGaps();
            if (!gateway.isConnected()) {
                return;
            }
            Map<String, Long> due = watermarks.takeDirty();
            for (Map.Entry<String, Long> e : due.entrySet()) {
                if (gateway.publishAck(Topics.ack(e.getKey()), codec.encode(TelemetryAck.of(e.getKey(), e.getValue())))) {
                    stats.ackSent();
                } else {
                    // A refused publish (e.g. Paho's in-flight limit under load) must not lose the ack: an agent
                    // whose last windows are committed would otherwise hear nothing until it replays them.
                    watermarks.notSent(e.getKey());
                }
            }
        } catch (Throwable t) {
            // The timer must survive anything: a dead ack timer would make every agent replay forever.
            LOG.errorf(t, "telemetry acknowledgement tick failed");
        }
    }

    private void lookUpGaps() {
        long now = System.currentTimeMillis();
        int lookups = 0;
        for (AckWatermarks.Gap g : watermarks.gaps(Integer.MAX_VALUE)) {
            Long last = lastGapLookup.get(g.deviceId());
            if (last != null && now - last < GAP_LOOKUP_EVERY_MS) {
                continue;
            }
            if (++lookups > GAP_LOOKUPS_PER_TICK) {
                return;
            }
            lastGapLookup.put(g.deviceId(), now);
            watermarks.found(g.deviceId(), ingest.storedSeqs(g.deviceId(), g.acked(), g.highest()));
        }
        if (lastGapLookup.size() > 100_000) {
            lastGapLookup.clear();
        }
    }
}
