package io.edgefleet.server.telemetry;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.TreeSet;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * Hourly rollups and retention. A window belongs to the hour its {@code windowEnd} falls in. Each run
 * rolls up every completed hour not rolled up yet, re-computes the hours that received late windows
 * (replayed from a device's offline buffer) since the last run, then deletes raw windows older than
 * {@code raw-retention} (cut at an hour boundary, so a rolled-up hour never loses half its windows)
 * and rollups older than {@code rollup-retention}. Portable SQL, the same on H2 and PostgreSQL.
 */
@ApplicationScoped
public class TelemetryRollups {
    private static final Logger LOG = Logger.getLogger(TelemetryRollups.class);
    public static final long HOUR = 3_600_000L;
    /** Windows are committed shortly after their received_at stamp; look that far back again. */
    static final long COMMIT_LAG_MS = 60_000;

    @Inject
    Session session;

    @Inject
    TelemetryConfig config;

    public record Result(int hoursRolledUp, int rawDeleted, int rollupsDeleted) {
    }

    @Scheduled(every = "${edgefleet.telemetry.rollup-interval:10m}", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        if (!config.rollupEnabled()) {
            return;
        }
        try {
            Result r = run(System.currentTimeMillis());
            if (r.hoursRolledUp() + r.rawDeleted() + r.rollupsDeleted() > 0) {
                LOG.infof("Telemetry rollup: %d hour(s) rolled up, %d raw window(s) and %d rollup row(s) past retention deleted",
                        r.hoursRolledUp(), r.rawDeleted(), r.rollupsDeleted());
            }
        } catch (RuntimeException e) {
            LOG.warnf(e, "Telemetry rollup failed; retried at the next interval");
        }
    }

    public synchronized Result run(long now) {
        long currentHour = now / HOUR * HOUR;
        long rawCutoff = Math.min((now - config.rawRetention().toMillis()) / HOUR * HOUR, currentHour);
        int hours = QuarkusTransaction.requiringNew().call(() -> {
            Object[] state = session.createNativeQuery(
                    "SELECT rolled_to, received_to FROM telemetry_rollup_state WHERE id = 1", Object[].class).getSingleResult();
            long rolledTo = ((Number) state[0]).longValue();
            long receivedTo = ((Number) state[1]).longValue();
            long receivedNow = now - COMMIT_LAG_MS;
            TreeSet<Long> todo = new TreeSet<>();
            // Completed hours not rolled up yet (from the oldest raw window on a first run).
            Number oldest = (Number) session.createNativeQuery(
                    "SELECT MIN(window_end) FROM telemetry_window WHERE window_end >= :from AND window_end < :to", Number.class)
                    .setParameter("from", Math.max(rolledTo, rawCutoff)).setParameter("to", currentHour).getSingleResult();
            if (oldest != null) {
                for (long h = oldest.longValue() / HOUR * HOUR; h < currentHour; h += HOUR) {
                    todo.add(h);
                }
            }
            // Rolled-up hours that received windows since the last run.
            List<Number> late = session.createNativeQuery("SELECT DISTINCT (window_end / " + HOUR + ") * " + HOUR
                            + " FROM telemetry_window WHERE received_at > :since AND window_end >= :cutoff AND window_end < :to",
                            Number.class)
                    .setParameter("since", receivedTo - COMMIT_LAG_MS).setParameter("cutoff", rawCutoff)
                    .setParameter("to", Math.min(rolledTo, currentHour)).getResultList();
            late.forEach(n -> todo.add(n.longValue()));
            for (long h : todo) {
                rollUp(h);
            }
            session.createNativeMutationQuery(
                            "UPDATE telemetry_rollup_state SET rolled_to = :r, received_to = :t WHERE id = 1")
                    .setParameter("r", Math.max(rolledTo, currentHour)).setParameter("t", Math.max(receivedTo, receivedNow))
                    .executeUpdate();
            return todo.size();
        });
        int raw = QuarkusTransaction.requiringNew().call(() -> session.createNativeMutationQuery(
                "DELETE FROM telemetry_window WHERE window_end < :cutoff").setParameter("cutoff", rawCutoff).executeUpdate());
        long rollupCutoff = now - config.rollupRetention().toMillis();
        int rollups = QuarkusTransaction.requiringNew().call(() -> session.createNativeMutationQuery(
                        "DELETE FROM telemetry_hourly_device WHERE hour_start < :c").setParameter("c", rollupCutoff).executeUpdate()
                + session.createNativeMutationQuery("DELETE FROM telemetry_hourly_class WHERE hour_start < :c")
                        .setParameter("c", rollupCutoff).executeUpdate());
        return new Result(hours, raw, rollups);
    }

    private void rollUp(long hour) {
        for (String table : List.of("telemetry_hourly_device", "telemetry_hourly_class")) {
            session.createNativeMutationQuery("DELETE FROM " + table + " WHERE hour_start = :h").setParameter("h", hour)
                    .executeUpdate();
        }
        String sums = "COUNT(*), SUM(t.inferences), SUM(t.errors), MAX(t.latency_p95),"
                + " SUM(CASE WHEN t.energy_mj IS NULL THEN 0 ELSE t.energy_mj * t.inferences END),"
                + " SUM(CASE WHEN t.energy_mj IS NULL THEN 0 ELSE t.inferences END), MAX(t.drift)";
        String where = " WHERE t.window_end >= :h AND t.window_end < :e";
        session.createNativeMutationQuery("INSERT INTO telemetry_hourly_device (device_id, hour_start, model_name,"
                        + " model_version, windows, inferences, errors, latency_p95_max, energy_mj_total, energy_inferences,"
                        + " drift_max) SELECT t.device_id, :h, COALESCE(t.model_name, ''), COALESCE(t.model_version, 0), " + sums
                        + " FROM telemetry_window t" + where
                        + " GROUP BY t.device_id, COALESCE(t.model_name, ''), COALESCE(t.model_version, 0)")
                .setParameter("h", hour).setParameter("e", hour + HOUR).executeUpdate();
        session.createNativeMutationQuery("INSERT INTO telemetry_hourly_class (class_id, hour_start, model_name,"
                        + " model_version, windows, devices, inferences, errors, latency_p95_max, energy_mj_total,"
                        + " energy_inferences, drift_max) SELECT d.class_id, :h, COALESCE(t.model_name, ''),"
                        + " COALESCE(t.model_version, 0), COUNT(*), COUNT(DISTINCT t.device_id), SUM(t.inferences),"
                        + " SUM(t.errors), MAX(t.latency_p95),"
                        + " SUM(CASE WHEN t.energy_mj IS NULL THEN 0 ELSE t.energy_mj * t.inferences END),"
                        + " SUM(CASE WHEN t.energy_mj IS NULL THEN 0 ELSE t.inferences END), MAX(t.drift)"
                        + " FROM telemetry_window t JOIN device d ON d.id = t.device_id" + where
                        + " GROUP BY d.class_id, COALESCE(t.model_name, ''), COALESCE(t.model_version, 0)")
                .setParameter("h", hour).setParameter("e", hour + HOUR).executeUpdate();
    }

    /** One hourly row as the API shows it (model null when no model was loaded). */
    public record HourlyView(String deviceId, String classId, long hourStart, String model, Long version, long windows,
            Long devices, long inferences, long errors, Double errorRate, Double p95LatencyMsMax,
            Double energyMjPerInference, Double driftMax) {
    }

    /** A device's or a class's hourly rollups in {@code [fromMs, toMs)}, oldest first. */
    public List<HourlyView> hourly(String deviceId, String classId, long fromMs, long toMs) {
        boolean device = deviceId != null;
        String sql = device
                ? "SELECT device_id, CAST(NULL AS VARCHAR(64)), hour_start, model_name, model_version, windows,"
                        + " CAST(NULL AS BIGINT), inferences, errors, latency_p95_max, energy_mj_total, energy_inferences,"
                        + " drift_max FROM telemetry_hourly_device WHERE device_id = :k"
                : "SELECT CAST(NULL AS VARCHAR(64)), class_id, hour_start, model_name, model_version, windows, devices,"
                        + " inferences, errors, latency_p95_max, energy_mj_total, energy_inferences, drift_max"
                        + " FROM telemetry_hourly_class WHERE class_id = :k";
        return QuarkusTransaction.requiringNew().call(() -> session.createNativeQuery(
                        sql + " AND hour_start >= :f AND hour_start < :t ORDER BY hour_start, model_name, model_version",
                        Object[].class)
                .setParameter("k", device ? deviceId : classId).setParameter("f", fromMs).setParameter("t", toMs)
                .getResultStream().map(r -> {
                    String model = (String) r[3];
                    long inferences = ((Number) r[7]).longValue();
                    long errors = ((Number) r[8]).longValue();
                    long energyInferences = ((Number) r[11]).longValue();
                    return new HourlyView((String) r[0], (String) r[1], ((Number) r[2]).longValue(),
                            model.isEmpty() ? null : model, model.isEmpty() ? null : ((Number) r[4]).longValue(),
                            ((Number) r[5]).longValue(), r[6] == null ? null : ((Number) r[6]).longValue(), inferences, errors,
                            inferences == 0 ? null : (double) errors / inferences,
                            r[9] == null ? null : ((Number) r[9]).doubleValue(),
                            energyInferences == 0 ? null : ((Number) r[10]).doubleValue() / energyInferences,
                            r[12] == null ? null : ((Number) r[12]).doubleValue());
                }).toList());
    }
}
