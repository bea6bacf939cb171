package io.edgefleet.server.metrics;

import io.edgefleet.server.alert.AlertState;
import io.edgefleet.server.rollout.DeploymentStatus;
import io.edgefleet.server.rollout.TargetState;
import io.edgefleet.server.telemetry.TelemetryAggregates;
import io.edgefleet.server.telemetry.WindowSummary;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * The fleet as Prometheus sees it on {@code /q/metrics}: gauges and counters per class / model /
 * version, never per device (a fleet of 10,000 devices must not become 10,000 series). Gauges are
 * recomputed from the database every {@code edgefleet.metrics.refresh-interval}; counters of
 * inferences, errors, energy and rollbacks advance by what was stored since the last refresh (read by
 * {@code received_at} / {@code updated_at}, a few seconds behind to let ingest transactions commit),
 * so they start at 0 with the process as Prometheus counters do.
 */
@ApplicationScoped
public class FleetMetrics {
    private static final Logger LOG = Logger.getLogger(FleetMetrics.class);
    /** Rows stamped less than this ago may still be uncommitted; they are counted at the next refresh. */
    static final long COMMIT_LAG_MS = 5_000;

    @Inject
    MeterRegistry registry;

    @Inject
    Session session;

    @Inject
    TelemetryAggregates telemetry;

    @Inject
    MetricsConfig config;

    private MultiGauge devices;
    private MultiGauge devicesOnline;
    private MultiGauge sloLatency;
    private MultiGauge sloEnergy;
    private MultiGauge latencyP95;
    private MultiGauge errorRatio;
    private MultiGauge energy;
    private MultiGauge drift;
    private MultiGauge deployments;
    private MultiGauge alerts;
    private long telemetryCursor;
    private long rollbackCursor;

    private volatile boolean stopping;

    void start(@Observes StartupEvent ev) {
        refresh();
    }

    void stop(@Observes io.quarkus.runtime.ShutdownEvent ev) {
        stopping = true;
    }

    private void init() {
        devices = gauge("edgefleet.devices", null, "Registered devices per class");
        devicesOnline = gauge("edgefleet.devices.online", null, "Devices connected now, per class");
        sloLatency = gauge("edgefleet.class.slo.latency.p95", "seconds", "The class's p95 latency objective");
        sloEnergy = gauge("edgefleet.class.slo.energy", "joules", "The class's energy-per-inference objective");
        latencyP95 = gauge("edgefleet.inference.latency.p95", "seconds",
                "Largest window p95 inference latency over the last latency-window (an upper bound of the pooled p95)");
        errorRatio = gauge("edgefleet.inference.error.ratio", null, "Failed / all inferences over the last latency-window");
        energy = gauge("edgefleet.inference.energy", "joules",
                "Mean estimated energy per inference over the last latency-window");
        drift = gauge("edgefleet.inference.drift.score", null, "Largest window input-drift score over the last latency-window");
        deployments = gauge("edgefleet.deployments", null, "Deployments per status");
        alerts = gauge("edgefleet.alerts.firing", null, "Alerts firing now, per alert name and severity");
        long now = System.currentTimeMillis() - COMMIT_LAG_MS;
        telemetryCursor = now;
        rollbackCursor = now;
        // Counters that exist from the start, so dashboards and rules always find them.
        registry.counter("edgefleet.alert.webhook.deliveries");
        registry.counter("edgefleet.alert.webhook.failures");
        registry.counter("edgefleet.alert.webhook.dropped", "reason", "queue_full");
        registry.counter("edgefleet.alert.webhook.dropped", "reason", "gave_up");
        io.micrometer.core.instrument.Timer.builder("edgefleet.alert.evaluation")
                .description("Duration of one rule evaluation pass").register(registry);
    }

    private MultiGauge gauge(String name, String unit, String help) {
        MultiGauge.Builder b = MultiGauge.builder(name).description(help);
        if (unit != null) {
            b.baseUnit(unit);
        }
        return b.register(registry);
    }

    @Scheduled(every = "${edgefleet.metrics.refresh-interval:15s}", delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        if (stopping) {
            return;
        }
        try {
            refresh();
        } catch (RuntimeException e) {
            if (stopping) {
                return;
            }
            LOG.warnf(e, "Metrics refresh failed; retried at the next interval");
        }
    }

    public void refresh() {
        refresh(System.currentTimeMillis());
    }

    /** Recomputes the gauges and advances the counters up to {@code now - COMMIT_LAG_MS}. */
    public synchronized void refresh(long now) {
        if (devices == null) {
            init();
        }
        QuarkusTransaction.requiringNew().run(() -> {
            refreshDevices();
            refreshTelemetry(now);
            refreshDeployments();
            refreshAlerts();
            advanceCounters(now - COMMIT_LAG_MS);
        });
    }

    private void refreshDevices() {
        List<MultiGauge.Row<?>> total = new ArrayList<>();
        List<MultiGauge.Row<?>> online = new ArrayList<>();
        List<MultiGauge.Row<?>> sloL = new ArrayList<>();
        List<MultiGauge.Row<?>> sloE = new ArrayList<>();
        for (Object[] r : session.createSelectionQuery("select c.id, c.sloP95LatencyMs, c.sloMaxEnergyMj,"
                + " (select count(d) from DeviceEntity d where d.classId = c.id),"
                + " (select count(d) from DeviceEntity d where d.classId = c.id and d.online = true)"
                + " from DeviceClassEntity c", Object[].class).getResultList()) {
            Tags t = Tags.of("class", (String) r[0]);
            total.add(MultiGauge.Row.of(t, ((Number) r[3]).doubleValue()));
            online.add(MultiGauge.Row.of(t, ((Number) r[4]).doubleValue()));
            sloL.add(MultiGauge.Row.of(t, ((Number) r[1]).doubleValue() / 1000.0));
            if (r[2] != null) {
                sloE.add(MultiGauge.Row.of(t, ((Number) r[2]).doubleValue() / 1000.0));
            }
        }
        devices.register(total, true);
        devicesOnline.register(online, true);
        sloLatency.register(sloL, true);
        sloEnergy.register(sloE, true);
    }

    private void refreshTelemetry(long now) {
        List<MultiGauge.Row<?>> p95 = new ArrayList<>();
        List<MultiGauge.Row<?>> err = new ArrayList<>();
        List<MultiGauge.Row<?>> en = new ArrayList<>();
        List<MultiGauge.Row<?>> dr = new ArrayList<>();
        for (TelemetryAggregates.Group g : telemetry.grouped(TelemetryAggregates.Grouping.VERSION,
                now - config.latencyWindow().toMillis(), now)) {
            Tags t = versionTags(g.classId(), g.modelName(), g.modelVersion());
            WindowSummary s = g.summary();
            if (s.p95LatencyMs() != null) {
                p95.add(MultiGauge.Row.of(t, s.p95LatencyMs() / 1000.0));
            }
            if (s.errorRate() != null) {
                err.add(MultiGauge.Row.of(t, s.errorRate()));
            }
            if (s.energyMjPerInference() != null) {
                en.add(MultiGauge.Row.of(t, s.energyMjPerInference() / 1000.0));
            }
            if (s.driftMax() != null) {
                dr.add(MultiGauge.Row.of(t, s.driftMax()));
            }
        }
        latencyP95.register(p95, true);
        errorRatio.register(err, true);
        energy.register(en, true);
        drift.register(dr, true);
    }

    private void refreshDeployments() {
        Map<DeploymentStatus, Long> counts = new EnumMap<>(DeploymentStatus.class);
        for (DeploymentStatus s : DeploymentStatus.values()) {
            counts.put(s, 0L);
        }
        for (Object[] r : session.createSelectionQuery("select d.status, count(d) from DeploymentEntity d group by d.status",
                Object[].class).getResultList()) {
            counts.put((DeploymentStatus) r[0], (Long) r[1]);
        }
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        counts.forEach((s, n) -> rows.add(MultiGauge.Row.of(Tags.of("status", s.name().toLowerCase(java.util.Locale.ROOT)), n)));
        deployments.register(rows, true);
    }

    private void refreshAlerts() {
        // Every enabled rule has a row (0 when quiet), so a rule's series exists before it ever fires.
        Map<String, Long> firing = new java.util.TreeMap<>();
        for (Object[] r : session.createSelectionQuery("select r.name, r.severity from AlertRuleEntity r where r.enabled = true",
                Object[].class).getResultList()) {
            firing.put(r[0] + "\u0000" + ((Enum<?>) r[1]).name().toLowerCase(java.util.Locale.ROOT), 0L);
        }
        for (Object[] r : session.createSelectionQuery("select a.name, a.severity, count(a) from AlertEntity a"
                + " where a.state = :s group by a.name, a.severity", Object[].class)
                .setParameter("s", AlertState.FIRING).getResultList()) {
            firing.put(r[0] + "\u0000" + r[1], (Long) r[2]);
        }
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        firing.forEach((k, n) -> {
            String[] p = k.split("\u0000", 2);
            rows.add(MultiGauge.Row.of(Tags.of("alertname", p[0], "severity", p[1]), n));
        });
        alerts.register(rows, true);
    }

    private void advanceCounters(long upTo) {
        for (Object[] r : session.createSelectionQuery("select d.classId, t.modelName, t.modelVersion, sum(t.inferences),"
                        + " sum(t.errors), sum(case when t.energyMj is null then 0.0 else t.energyMj * t.inferences end)"
                        + " from TelemetryWindowEntity t join DeviceEntity d on d.id = t.deviceId"
                        + " where t.receivedAt > :a and t.receivedAt <= :b group by d.classId, t.modelName, t.modelVersion",
                        Object[].class)
                .setParameter("a", telemetryCursor).setParameter("b", upTo).getResultList()) {
            Tags t = versionTags((String) r[0], (String) r[1], (Long) r[2]);
            counter("edgefleet.inferences", null, "Inferences reported by devices", t).increment(((Number) r[3]).doubleValue());
            counter("edgefleet.inference.errors", null, "Failed inferences reported by devices", t)
                    .increment(((Number) r[4]).doubleValue());
            counter("edgefleet.inference.energy.consumed", "joules", "Estimated inference energy reported by devices", t)
                    .increment(((Number) r[5]).doubleValue() / 1000.0);
        }
        telemetryCursor = Math.max(telemetryCursor, upTo);
        for (Object[] r : session.createSelectionQuery("select t.classId, dep.modelName, dep.modelVersion, count(t)"
                        + " from DeploymentTargetEntity t join DeploymentEntity dep on dep.id = t.deploymentId"
                        + " where t.state = :rb and t.updatedAt > :a and t.updatedAt <= :b"
                        + " group by t.classId, dep.modelName, dep.modelVersion", Object[].class)
                .setParameter("rb", TargetState.ROLLED_BACK).setParameter("a", rollbackCursor).setParameter("b", upTo)
                .getResultList()) {
            counter("edgefleet.rollbacks", null, "Devices that rolled a deployment back",
                    versionTags((String) r[0], (String) r[1], ((Number) r[2]).longValue())).increment(((Number) r[3]).doubleValue());
        }
        rollbackCursor = Math.max(rollbackCursor, upTo);
    }

    private Counter counter(String name, String unit, String help, Tags tags) {
        Counter.Builder b = Counter.builder(name).description(help).tags(tags);
        if (unit != null) {
            b.baseUnit(unit);
        }
        return b.register(registry);
    }

    private static Tags versionTags(String classId, String model, Long version) {
        return Tags.of("class", classId, "model", model == null ? "" : model, "version",
                version == null ? "" : Long.toString(version));
    }
}
