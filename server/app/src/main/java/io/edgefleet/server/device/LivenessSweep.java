package io.edgefleet.server.device;

import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.mqtt.IngestStats;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * Marks devices offline that have been silent (no telemetry, status or event) for longer than
 * {@code edgefleet.devices.offline-after}: a device that loses power without its Last Will reaching
 * the server (a broker restart, a will that was lost) still goes offline. It sweeps only after this
 * server has been connected to the broker for the whole bound, so a server or broker outage does
 * not sweep the fleet. A swept device comes back online with its next telemetry or status.
 * Idempotent, so every replica may run it.
 */
@ApplicationScoped
public class LivenessSweep {
    private static final Logger LOG = Logger.getLogger(LivenessSweep.class);

    @Inject
    EdgefleetConfig config;

    @Inject
    Session session;

    @Inject
    IngestStats stats;

    @Inject
    LivenessSweep self;

    @Inject
    io.edgefleet.server.mqtt.MqttGateway gateway;

    private ScheduledExecutorService timer;

    void onStart(@Observes StartupEvent event) {
        long every = Math.max(100, config.devices().sweepInterval().toMillis());
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "edgefleet-liveness-sweep");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                // Silence while this server could not hear (down, or cut off from the broker) is not the devices'.
                long now = System.currentTimeMillis();
                long hearingSince = gateway.connectedSince();
                if (hearingSince <= 0 || now - hearingSince < config.devices().offlineAfter().toMillis()) {
                    return;
                }
                int n = self.sweep(now);
                if (n > 0) {
                    stats.sweptOffline(n);
                    LOG.infof("marked %d silent device(s) offline (nothing heard for %s)", n, config.devices().offlineAfter());
                }
            } catch (Throwable t) {
                LOG.warnf("liveness sweep failed: %s", t.toString());
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** Marks online devices whose last sign of life is older than the bound offline; returns how many. */
    @Transactional
    public int sweep(long now) {
        long cutoff = now - config.devices().offlineAfter().toMillis();
        return session.createMutationQuery("update DeviceEntity d set d.online = false, d.swept = true"
                        + " where d.online = true and (d.lastSeen is null or d.lastSeen < :cutoff)")
                .setParameter("cutoff", cutoff).executeUpdate();
    }
}
