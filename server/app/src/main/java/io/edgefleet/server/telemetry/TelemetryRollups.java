package io.edgefleet.server.telemetry;

import io.agroal.api.AgroalDataSource;
import io.edgefleet.server.config.Active;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.jboss.logging.Logger;

/** Runs {@link RollupJob} every {@code edgefleet.telemetry.rollup-interval} on the active database, and serves its rows. */
@ApplicationScoped
public class TelemetryRollups {
    private static final Logger LOG = Logger.getLogger(TelemetryRollups.class);

    @Inject
    @Active
    AgroalDataSource dataSource;

    @Inject
    TelemetryConfig config;

    @Scheduled(every = "${edgefleet.telemetry.rollup-interval:10m}", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        if (!config.rollupEnabled()) {
            return;
        }
        try {
            RollupJob.Result r = run(System.currentTimeMillis());
            if (r.hoursRolledUp() + r.rawDeleted() + r.rollupsDeleted() > 0) {
                LOG.infof("Telemetry rollup: %d hour(s) rolled up; %d raw window(s) and %d rollup row(s) past retention deleted",
                        r.hoursRolledUp(), r.rawDeleted(), r.rollupsDeleted());
            }
        } catch (RuntimeException e) {
            LOG.warnf(e, "Telemetry rollup failed; retried at the next interval");
        }
    }

    public synchronized RollupJob.Result run(long now) {
        try (Connection c = dataSource.getConnection()) {
            return RollupJob.run(c, now, config.rawRetention().toMillis(), config.rollupRetention().toMillis());
        } catch (SQLException e) {
            throw new IllegalStateException("telemetry rollup failed: " + e.getMessage(), e);
        }
    }

    public List<RollupJob.HourlyView> hourly(String deviceId, String classId, long fromMs, long toMs) {
        return hourly(deviceId, classId, fromMs, toMs, false, System.currentTimeMillis());
    }

    /**
     * The rolled-up hours and, with {@code current}, the hours not rolled up yet computed from the raw windows (the
     * running one marked partial): a fleet younger than an hour has something to plot.
     */
    public List<RollupJob.HourlyView> hourly(String deviceId, String classId, long fromMs, long toMs, boolean current,
            long now) {
        try (Connection c = dataSource.getConnection()) {
            List<RollupJob.HourlyView> rows = RollupJob.hourly(c, deviceId, classId, fromMs, toMs);
            if (!current) {
                return rows;
            }
            java.util.Set<Long> rolled = new java.util.HashSet<>();
            rows.forEach(r -> rolled.add(r.hourStart()));
            List<RollupJob.HourlyView> out = new java.util.ArrayList<>(rows);
            for (RollupJob.HourlyView p : RollupJob.pending(c, deviceId, classId, fromMs, toMs, now)) {
                if (!rolled.contains(p.hourStart())) { // a late run may have rolled it since rolled_to was read
                    out.add(p);
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("reading rollups failed: " + e.getMessage(), e);
        }
    }
}
