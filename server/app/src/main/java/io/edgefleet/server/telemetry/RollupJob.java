package io.edgefleet.server.telemetry;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Hourly rollups and retention over plain JDBC, so the same statements are tested on H2 (in the server)
 * and PostgreSQL (directly). A window belongs to the hour its {@code window_end} falls in. Each run
 * rolls up every completed hour not rolled up yet, re-computes the hours that received late windows
 * (replayed from a device's offline buffer) since the last run, then deletes raw windows older than
 * the raw retention (cut at an hour boundary, so a rolled-up hour never loses part of its windows)
 * and rollups older than the rollup retention.
 */
public final class RollupJob {
    public static final long HOUR = 3_600_000L;
    /** Windows are committed shortly after their received_at stamp; a run looks that far back again. */
    static final long COMMIT_LAG_MS = 60_000;

    private static final String SUMS = "COUNT(*), SUM(t.inferences), SUM(t.errors), MAX(t.latency_p95),"
            + " SUM(CASE WHEN t.energy_mj IS NULL THEN 0 ELSE t.energy_mj * t.inferences END),"
            + " SUM(CASE WHEN t.energy_mj IS NULL THEN 0 ELSE t.inferences END), MAX(t.drift)";

    public record Result(int hoursRolledUp, int rawDeleted, int rollupsDeleted) {
    }

    /** One hourly row as the API shows it (model null when no model was loaded; devices only for classes). */
    @Schema(description = "One hour of telemetry of a device or a class (model null when no model was loaded).")
    public record HourlyView(
            @Schema(description = "The device (device rollups); null for class rollups.")
            String deviceId,
            @Schema(description = "The device class.")
            String classId,
            @Schema(description = "Start of the hour, epoch milliseconds.")
            long hourStart,
            @Schema(description = "Model name; null when no model was loaded.")
            String model,
            @Schema(description = "Model version; null with model.")
            Long version,
            @Schema(description = "Telemetry windows in the hour.")
            long windows,
            @Schema(description = "Distinct devices (class rollups only).")
            Long devices,
            @Schema(description = "Inferences.")
            long inferences,
            @Schema(description = "Failed inferences.")
            long errors,
            @Schema(description = "errors / inferences; null without inferences.")
            Double errorRate,
            @Schema(description = "Largest window p95 latency, ms.")
            Double p95LatencyMsMax,
            @Schema(description = "Inference-weighted mean energy per inference, millijoules.")
            Double energyMjPerInference,
            @Schema(description = "Largest window drift score.")
            Double driftMax,
            @Schema(description = "true for an hour that has not ended yet (only with current=true): computed from the "
                    + "raw windows so far, rolled up once it ends.")
            boolean partial) {
    }

    private RollupJob() {
    }

    /** Runs in its own transaction on {@code c} (auto-commit is switched off and restored). */
    public static Result run(Connection c, long now, long rawRetentionMs, long rollupRetentionMs) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            long currentHour = now / HOUR * HOUR;
            long rawCutoff = Math.min((now - rawRetentionMs) / HOUR * HOUR, currentHour);
            long rolledTo;
            long receivedTo;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT rolled_to, received_to FROM telemetry_rollup_state WHERE id = 1 FOR UPDATE");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                rolledTo = rs.getLong(1);
                receivedTo = rs.getLong(2);
            }
            TreeSet<Long> todo = new TreeSet<>();
            // Completed hours not rolled up yet (from the oldest raw window on a first run).
            Long oldest = oneLong(c, "SELECT MIN(window_end) FROM telemetry_window WHERE window_end >= ? AND window_end < ?",
                    Math.max(rolledTo, rawCutoff), currentHour);
            if (oldest != null) {
                for (long h = oldest / HOUR * HOUR; h < currentHour; h += HOUR) {
                    todo.add(h);
                }
            }
            // Rolled-up hours that received windows since the last run.
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT (window_end / " + HOUR + ") * " + HOUR
                    + " FROM telemetry_window WHERE received_at > ? AND window_end >= ? AND window_end < ?")) {
                ps.setLong(1, receivedTo - COMMIT_LAG_MS);
                ps.setLong(2, rawCutoff);
                ps.setLong(3, Math.min(rolledTo, currentHour));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        todo.add(rs.getLong(1));
                    }
                }
            }
            for (long h : todo) {
                rollUp(c, h);
            }
            update(c, "UPDATE telemetry_rollup_state SET rolled_to = ?, received_to = ? WHERE id = 1",
                    Math.max(rolledTo, currentHour), Math.max(receivedTo, now - COMMIT_LAG_MS));
            int raw = update(c, "DELETE FROM telemetry_window WHERE window_end < ?", rawCutoff);
            long rollupCutoff = now - rollupRetentionMs;
            int rollups = update(c, "DELETE FROM telemetry_hourly_device WHERE hour_start < ?", rollupCutoff)
                    + update(c, "DELETE FROM telemetry_hourly_class WHERE hour_start < ?", rollupCutoff);
            c.commit();
            return new Result(todo.size(), raw, rollups);
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private static void rollUp(Connection c, long hour) throws SQLException {
        update(c, "DELETE FROM telemetry_hourly_device WHERE hour_start = ?", hour);
        update(c, "DELETE FROM telemetry_hourly_class WHERE hour_start = ?", hour);
        String where = " WHERE t.window_end >= ? AND t.window_end < ?";
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO telemetry_hourly_device (device_id, hour_start,"
                + " model_name, model_version, windows, inferences, errors, latency_p95_max, energy_mj_total,"
                + " energy_inferences, drift_max) SELECT t.device_id, " + hour + ", COALESCE(t.model_name, ''),"
                + " COALESCE(t.model_version, 0), " + SUMS + " FROM telemetry_window t" + where
                + " GROUP BY t.device_id, COALESCE(t.model_name, ''), COALESCE(t.model_version, 0)")) {
            ps.setLong(1, hour);
            ps.setLong(2, hour + HOUR);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO telemetry_hourly_class (class_id, hour_start,"
                + " model_name, model_version, windows, devices, inferences, errors, latency_p95_max, energy_mj_total,"
                + " energy_inferences, drift_max) SELECT d.class_id, " + hour + ", COALESCE(t.model_name, ''),"
                + " COALESCE(t.model_version, 0), COUNT(*), COUNT(DISTINCT t.device_id), SUM(t.inferences),"
                + " SUM(t.errors), MAX(t.latency_p95),"
                + " SUM(CASE WHEN t.energy_mj IS NULL THEN 0 ELSE t.energy_mj * t.inferences END),"
                + " SUM(CASE WHEN t.energy_mj IS NULL THEN 0 ELSE t.inferences END), MAX(t.drift)"
                + " FROM telemetry_window t JOIN device d ON d.id = t.device_id" + where
                + " GROUP BY d.class_id, COALESCE(t.model_name, ''), COALESCE(t.model_version, 0)")) {
            ps.setLong(1, hour);
            ps.setLong(2, hour + HOUR);
            ps.executeUpdate();
        }
    }

    /**
     * The hours the job has not rolled up yet (from its {@code rolled_to} on, so the current hour and one that ended
     * before the next run), computed from the raw windows with the rollup's own sums, with
     * {@code fromMs <= hour_start < toMs}, oldest first; an hour still running at {@code now} is {@code partial}.
     */
    public static List<HourlyView> pending(Connection c, String deviceId, String classId, long fromMs, long toMs,
            long now) throws SQLException {
        long rolledTo = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT rolled_to FROM telemetry_rollup_state WHERE id = 1");
                ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                rolledTo = rs.getLong(1);
            }
        }
        long lo = Math.max(fromMs / HOUR * HOUR, rolledTo);
        boolean device = deviceId != null;
        String hour = "(t.window_end / " + HOUR + ") * " + HOUR;
        String model = "COALESCE(t.model_name, ''), COALESCE(t.model_version, 0)";
        String sql = "SELECT " + hour + ", " + model + ", " + SUMS + ", COUNT(DISTINCT t.device_id)"
                + " FROM telemetry_window t" + (device ? " WHERE t.device_id = ?"
                        : " JOIN device d ON d.id = t.device_id WHERE d.class_id = ?")
                + " AND t.window_end >= ? AND t.window_end < ? GROUP BY " + hour + ", " + model
                + " ORDER BY 1, 2, 3";
        List<HourlyView> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, device ? deviceId : classId);
            ps.setLong(2, lo);
            ps.setLong(3, toMs == Long.MAX_VALUE ? Long.MAX_VALUE : toMs / HOUR * HOUR + (toMs % HOUR == 0 ? 0 : HOUR));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long start = rs.getLong(1);
                    if (start < fromMs || start >= toMs) {
                        continue;
                    }
                    String m = rs.getString(2);
                    long inferences = rs.getLong(5);
                    long errors = rs.getLong(6);
                    double p95 = rs.getDouble(7);
                    Double p95Max = rs.wasNull() ? null : p95;
                    double energyTotal = rs.getDouble(8);
                    long energyInferences = rs.getLong(9);
                    double drift = rs.getDouble(10);
                    Double driftMax = rs.wasNull() ? null : drift;
                    out.add(new HourlyView(deviceId, device ? null : classId, start, m.isEmpty() ? null : m,
                            m.isEmpty() ? null : rs.getLong(3), rs.getLong(4), device ? null : rs.getLong(11),
                            inferences, errors, inferences == 0 ? null : (double) errors / inferences, p95Max,
                            energyInferences == 0 ? null : energyTotal / energyInferences, driftMax,
                            start + HOUR > now));
                }
            }
        }
        return out;
    }

    /** A device's ({@code deviceId}) or a class's hourly rollups with {@code fromMs <= hour_start < toMs}, oldest first. */
    public static List<HourlyView> hourly(Connection c, String deviceId, String classId, long fromMs, long toMs)
            throws SQLException {
        boolean device = deviceId != null;
        String sql = device
                ? "SELECT device_id, hour_start, model_name, model_version, windows, inferences, errors, latency_p95_max,"
                        + " energy_mj_total, energy_inferences, drift_max FROM telemetry_hourly_device WHERE device_id = ?"
                : "SELECT class_id, hour_start, model_name, model_version, windows, inferences, errors, latency_p95_max,"
                        + " energy_mj_total, energy_inferences, drift_max, devices FROM telemetry_hourly_class WHERE class_id = ?";
        List<HourlyView> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql
                + " AND hour_start >= ? AND hour_start < ? ORDER BY hour_start, model_name, model_version")) {
            ps.setString(1, device ? deviceId : classId);
            ps.setLong(2, fromMs);
            ps.setLong(3, toMs);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String model = rs.getString(3);
                    long inferences = rs.getLong(6);
                    long errors = rs.getLong(7);
                    double p95 = rs.getDouble(8);
                    Double p95Max = rs.wasNull() ? null : p95;
                    double energyTotal = rs.getDouble(9);
                    long energyInferences = rs.getLong(10);
                    double drift = rs.getDouble(11);
                    Double driftMax = rs.wasNull() ? null : drift;
                    out.add(new HourlyView(device ? rs.getString(1) : null, device ? null : rs.getString(1), rs.getLong(2),
                            model.isEmpty() ? null : model, model.isEmpty() ? null : rs.getLong(4), rs.getLong(5),
                            device ? null : rs.getLong(12), inferences, errors,
                            inferences == 0 ? null : (double) errors / inferences, p95Max,
                            energyInferences == 0 ? null : energyTotal / energyInferences, driftMax, false));
                }
            }
        }
        return out;
    }

    private static Long oneLong(Connection c, String sql, long a, long b) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, a);
            ps.setLong(2, b);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long v = rs.getLong(1);
                return rs.wasNull() ? null : v;
            }
        }
    }

    private static int update(Connection c, String sql, long... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setLong(i + 1, args[i]);
            }
            return ps.executeUpdate();
        }
    }
}
