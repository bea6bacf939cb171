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
 *
 * <p>Silence is judged by arrival, not by storage: a device's last-seen time is written when what it sent
 * is committed, so under load a device whose windows wait in the ingest queue would look silent while it
 * talks. The sweep therefore judges only up to the arrival of the oldest message this server holds
 * uncommitted ({@link io.edgefleet.server.mqtt.InboundDispatcher#heardUpTo}), and not at all while the
 * broker is being held back (messages of unknown age wait there). See {@link #cutoff}.
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

    @Inject
    io.edgefleet.server.mqtt.InboundDispatcher dispatcher;

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
                long now = System.currentTimeMillis();
                java.util.OptionalLong cutoff = cutoff(now, gateway.connectedSince(), dispatcher.heardUpTo(now),
                        dispatcher.lastBackpressureAt(), config.devices().offlineAfter().toMillis(), every);
                if (cutoff.isEmpty()) {
                    return;
                }
                int n = self.sweepBefore(cutoff.getAsLong());
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

    /**
     * The last-seen time before which an online device counts as silent, or empty when silence cannot be judged
     * now. {@code hearingSince}: since when this server has been connected to the broker (0: it is not);
     * {@code heardUpTo}: the arrival of the oldest message it holds uncommitted ({@code now} if none);
     * {@code lastBackpressureAt}: when it last held the broker back (0: never); {@code sweepEvery}: the sweep's
     * period. Silence while this server could not hear (down, cut off, or behind) is not the devices'.
     */
    public static java.util.OptionalLong cutoff(long now, long hearingSince, long heardUpTo, long lastBackpressureAt,
                                                long offlineAfter, long sweepEvery) {
        if (hearingSince <= 0 || now - hearingSince < offlineAfter) {
            return java.util.OptionalLong.empty();
        }
        if (lastBackpressureAt > 0 && now - lastBackpressureAt <= sweepEvery) {
            return java.util.OptionalLong.empty();
        }
        return java.util.OptionalLong.of(Math.min(now, heardUpTo) - offlineAfter);
    }

    /** Marks online devices whose last sign of life is older than the bound offline; returns how many. */
    @Transactional
    public int sweep(long now) {
        return sweepBefore(now - config.devices().offlineAfter().toMillis());
    }

    /** Marks online devices whose last sign of life is before {@code cutoff} offline; returns how many. */
    @Transactional
    public int sweepBefore(long cutoff) {
        return session.createMutationQuery("update DeviceEntity d set d.online = false, d.swept = true"
                        + " where d.online = true and (d.lastSeen is null or d.lastSeen < :cutoff)")
                .setParameter("cutoff", cutoff).executeUpdate();
    }
}
