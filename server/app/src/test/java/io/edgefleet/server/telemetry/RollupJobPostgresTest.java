package io.edgefleet.server.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.server.support.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/** The rollup and retention statements on PostgreSQL (skipped, with a message, when none is reachable). */
class RollupJobPostgresTest {
    static final long H = RollupJob.HOUR;

    @Test
    void rollsUpAndDeletesOnPostgres() throws Exception {
        assumeTrue(Postgres.reachable(), "PostgreSQL is not reachable at " + Postgres.URL + ": rollup test skipped");
        String schema = "edgefleet_ru_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        Flyway.configure().dataSource(Postgres.URL, Postgres.USER, Postgres.PASSWORD).schemas(schema).createSchemas(true)
                .locations("classpath:db/migration").load().migrate();
        try (Connection c = DriverManager.getConnection(Postgres.URL + "?currentSchema=" + schema, Postgres.USER,
                Postgres.PASSWORD)) {
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO device_class (id, name, arch, cores, ram_mb, storage_mb, precisions,"
                        + " slo_p95_latency_ms, slo_max_model_bytes, accuracy_overall_points, accuracy_cohort_points,"
                        + " created_at, updated_at) VALUES ('gw', 'gw', 'x86_64', 2, 1024, 4096, 'fp32', 50, 1000, 1, 2, 1, 1)");
                for (String d : List.of("d1", "d2")) {
                    st.executeUpdate("INSERT INTO device (id, class_id, credential_updated_at, online, created_at)"
                            + " VALUES ('" + d + "', 'gw', 1, FALSE, 1)");
                }
            }
            long base = 1_000 * H;
            long now = base + 60_000;
            insert(c, 1, "d1", base - 2 * H + 1000, now - 1000, "m", 100, 10.0, 2.0);
            insert(c, 2, "d1", base - 2 * H + 2000, now - 1000, "m", 300, 30.0, 4.0);
            insert(c, 3, "d2", base - 2 * H + 3000, now - 1000, null, 0, null, null);
            insert(c, 4, "d1", base - 30 * 24 * H, now - 1000, "m", 1, 1.0, null);
            RollupJob.Result r = RollupJob.run(c, now, 7 * 24 * H, 400 * 24 * H);
            assertEquals(2, r.hoursRolledUp(), "from the oldest retained window's hour to the current one");
            assertEquals(1, r.rawDeleted());
            List<RollupJob.HourlyView> d1 = RollupJob.hourly(c, "d1", null, 0, Long.MAX_VALUE);
            assertEquals(1, d1.size(), d1.toString());
            assertEquals(400, d1.get(0).inferences());
            assertEquals(3.5, d1.get(0).energyMjPerInference(), 1e-9);
            assertEquals(30.0, d1.get(0).p95LatencyMsMax());
            List<RollupJob.HourlyView> d2 = RollupJob.hourly(c, "d2", null, 0, Long.MAX_VALUE);
            assertEquals(null, d2.get(0).model(), "no model loaded");
            List<RollupJob.HourlyView> cls = RollupJob.hourly(c, null, "gw", 0, Long.MAX_VALUE);
            assertEquals(2, cls.size());
            assertEquals(1L, cls.get(1).devices());

            insert(c, 5, "d1", base - 2 * H + 4000, now + 1000, "m", 100, 70.0, null);
            RollupJob.run(c, now + 120_000, 7 * 24 * H, 400 * 24 * H);
            assertEquals(70.0, RollupJob.hourly(c, "d1", null, 0, Long.MAX_VALUE).get(0).p95LatencyMsMax(),
                    "the late window's hour was re-computed");
        } finally {
            try (Connection c = DriverManager.getConnection(Postgres.URL, Postgres.USER, Postgres.PASSWORD);
                    Statement st = c.createStatement()) {
                st.executeUpdate("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    private static void insert(Connection c, long id, String device, long end, long receivedAt, String model,
            long inferences, Double p95, Double energy) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO telemetry_window (id, device_id, message_id, seq,"
                + " window_start, window_end, model_name, model_version, inferences, errors, latency_p95, energy_mj,"
                + " dropped, replayed, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, FALSE, ?)")) {
            ps.setLong(1, id);
            ps.setString(2, device);
            ps.setString(3, "w" + id);
            ps.setLong(4, id);
            ps.setLong(5, end - 1000);
            ps.setLong(6, end);
            ps.setString(7, model);
            ps.setObject(8, model == null ? null : 1L, java.sql.Types.BIGINT);
            ps.setLong(9, inferences);
            ps.setObject(10, p95, java.sql.Types.DOUBLE);
            ps.setObject(11, energy, java.sql.Types.DOUBLE);
            ps.setLong(12, receivedAt);
            ps.executeUpdate();
        }
    }
}
