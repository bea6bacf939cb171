package io.edgefleet.server.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.drift.DriftReport;
import io.edgefleet.protocol.drift.FeatureDrift;
import io.edgefleet.server.support.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL batch path of telemetry ingest against a real PostgreSQL with the project's migrations
 * (skipped, with a message, when none is reachable): once per (device, message id) within a batch, across
 * batches and across two transactions racing on the same windows; unknown devices reported, not stored;
 * every column round-trips; the device's last-seen time and newest window move in the same transaction.
 */
class PostgresTelemetryWriterTest {
    static String schema;

    @BeforeAll
    static void migrate() throws Exception {
        assumeTrue(Postgres.reachable(), "PostgreSQL is not reachable at " + Postgres.URL + ": test skipped");
        schema = "edgefleet_tw_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        Flyway.configure().dataSource(Postgres.URL, Postgres.USER, Postgres.PASSWORD).schemas(schema).createSchemas(true)
                .locations("classpath:db/migration").load().migrate();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO device_class (id, name, arch, cores, ram_mb, storage_mb, precisions,"
                    + " slo_p95_latency_ms, slo_max_model_bytes, accuracy_overall_points, accuracy_cohort_points,"
                    + " created_at, updated_at) VALUES ('gw', 'gw', 'x86_64', 2, 1024, 4096, 'fp32', 50, 1000, 1, 2, 1, 1)");
            for (String d : List.of("d1", "d2", "d3", "swept", "race")) {
                st.executeUpdate("INSERT INTO device (id, class_id, credential_updated_at, online, created_at)"
                        + " VALUES ('" + d + "', 'gw', 1, FALSE, 1)");
            }
        }
    }

    @AfterAll
    static void drop() throws Exception {
        if (schema != null) {
            try (Connection c = DriverManager.getConnection(Postgres.URL, Postgres.USER, Postgres.PASSWORD);
                    Statement st = c.createStatement()) {
                st.executeUpdate("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    static Connection connect() throws Exception {
        return DriverManager.getConnection(Postgres.URL + "?currentSchema=" + schema, Postgres.USER, Postgres.PASSWORD);
    }

    static TelemetryWindow window(String device, String id, long seq, boolean replayed) {
        long end = 1_000_000 + seq * 1000;
        return new TelemetryWindow(1, id, end, device, seq, end - 1000, end, new ModelRef("m", 3, "a".repeat(64)), 20, 1,
                new LatencyStats(1, 2, 3, 4, 1.5), 0.5, 0.1, 0, replayed, seq, "rapl", 0.01,
                new DriftReport(0.1, 0.05, -0.02, "validation", 20, List.of(new FeatureDrift("input.mean", 0.1, 0.05))));
    }

    static TelemetryIngest.Result store(Connection c, List<TelemetryWindow> ws, long receivedAt) throws Exception {
        c.setAutoCommit(false);
        TelemetryIngest.Result r = PostgresTelemetryWriter.store(c, ws, receivedAt, w -> "last:" + w.id());
        c.commit();
        return r;
    }

    static long count(Connection c, String sql) throws Exception {
        try (Statement st = c.createStatement(); ResultSet r = st.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }

    @Test
    void storesEachWindowOnceAndReportsTheRest() throws Exception {
        try (Connection c = connect()) {
            TelemetryWindow a = window("d1", "d1-a", 0, false);
            TelemetryWindow b = window("d1", "d1-b", 1, false);
            TelemetryWindow old = window("d2", "d2-old", 0, true);
            TelemetryWindow x = window("nobody", "x-0", 0, false);
            TelemetryIngest.Result r = store(c, List.of(a, b, a, old, x), 5_000);
            assertEquals(3, r.stored());
            assertEquals(1, r.duplicates(), "the redelivery of d1-a within the batch");
            assertEquals(List.of("nobody"), r.unknownDevices());
            assertEquals(4, r.committed().size(), "every window of a known device is committed, duplicates included");
            assertEquals(3, count(c, "SELECT COUNT(*) FROM telemetry_window WHERE device_id IN ('d1', 'd2')"));
            assertEquals(0, count(c, "SELECT COUNT(*) FROM telemetry_window WHERE device_id = 'nobody'"));

            TelemetryIngest.Result again = store(c, List.of(b, window("d1", "d1-c", 2, false)), 6_000);
            assertEquals(1, again.stored());
            assertEquals(1, again.duplicates(), "d1-b was stored by the earlier batch");
            assertEquals(4, count(c, "SELECT COUNT(*) FROM telemetry_window WHERE device_id IN ('d1', 'd2')"));

            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT id, last_seen, last_telemetry FROM device WHERE id IN ('d1', 'd2') ORDER BY id")) {
                assertTrue(rs.next());
                assertEquals(6_000, rs.getLong(2));
                assertEquals("last:d1-c", rs.getString(3), "the newest window stored");
                assertTrue(rs.next());
                assertEquals(5_000, rs.getLong(2));
                assertNull(rs.getString(3), "a replayed window is stored but is not the device's last window");
            }
            c.commit();
        }
    }

    @Test
    void everyColumnRoundTrips() throws Exception {
        try (Connection c = connect()) {
            TelemetryWindow w = window("d3", "d3-0", 7, false);
            store(c, List.of(w), 9_000);
            TelemetryWindowEntity e = new TelemetryWindowEntity();
            try (Statement st = c.createStatement(); ResultSet r = st.executeQuery("SELECT * FROM telemetry_window"
                    + " WHERE device_id = 'd3'")) {
                assertTrue(r.next());
                e.deviceId = r.getString("device_id");
                e.messageId = r.getString("message_id");
                e.seq = r.getLong("seq");
                e.windowStart = r.getLong("window_start");
                e.windowEnd = r.getLong("window_end");
                e.modelName = r.getString("model_name");
                e.modelVersion = r.getLong("model_version");
                e.modelSha256 = r.getString("model_sha256");
                e.inferences = r.getLong("inferences");
                e.errors = r.getLong("errors");
                e.latencyP50 = r.getDouble("latency_p50");
                e.latencyP95 = r.getDouble("latency_p95");
                e.latencyP99 = r.getDouble("latency_p99");
                e.latencyMax = r.getDouble("latency_max");
                e.latencyMean = r.getDouble("latency_mean");
                e.energyMj = r.getDouble("energy_mj");
                e.drift = r.getDouble("drift");
                e.dropped = r.getLong("dropped");
                e.replayed = r.getBoolean("replayed");
                e.receivedAt = r.getLong("received_at");
                e.energySource = r.getString("energy_source");
                e.energyJoules = r.getDouble("energy_joules");
                e.driftJs = r.getDouble("drift_js");
                e.driftConfidenceShift = r.getDouble("drift_confidence_shift");
                e.driftReference = r.getString("drift_reference");
                e.driftDetail = r.getString("drift_detail");
                assertFalse(r.next());
            }
            assertEquals(TelemetryView.of(w, 9_000), TelemetryView.of(e));
            assertEquals(0.05, e.driftJs);
        }
    }

    @Test
    void aSweptDeviceComesBackOnline() throws Exception {
        try (Connection c = connect()) {
            try (Statement st = c.createStatement()) {
                st.executeUpdate("UPDATE device SET swept = TRUE, online = FALSE WHERE id = 'swept'");
            }
            store(c, List.of(window("swept", "s-0", 0, false)), 1_000);
            assertEquals(1, count(c, "SELECT COUNT(*) FROM device WHERE id = 'swept' AND online AND NOT swept"));
        }
    }

    /** Two replicas committing overlapping batches at once: no error, no duplicate row, stored adds up. */
    @Test
    void racingTransactionsStoreEachWindowOnce() throws Exception {
        List<TelemetryWindow> ws = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            ws.add(window("race", "race-" + i, i, false));
        }
        List<TelemetryWindow> first = ws.subList(0, 300);
        List<TelemetryWindow> second = new ArrayList<>(ws.subList(100, 400));
        java.util.Collections.reverse(second);
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<TelemetryIngest.Result>> results = new ArrayList<>();
            for (List<TelemetryWindow> batch : List.of(first, second)) {
                Callable<TelemetryIngest.Result> job = () -> {
                    try (Connection c = connect()) {
                        start.await(10, TimeUnit.SECONDS);
                        return store(c, batch, 2_000);
                    }
                };
                results.add(pool.submit(job));
            }
            TelemetryIngest.Result a = results.get(0).get(30, TimeUnit.SECONDS);
            TelemetryIngest.Result b = results.get(1).get(30, TimeUnit.SECONDS);
            assertEquals(400, a.stored() + b.stored());
            assertEquals(200, a.duplicates() + b.duplicates(), "the 200 windows both sent");
            try (Connection c = connect()) {
                assertEquals(400, count(c, "SELECT COUNT(*) FROM telemetry_window WHERE device_id = 'race'"));
                assertEquals(400, count(c, "SELECT COUNT(DISTINCT seq) FROM telemetry_window WHERE device_id = 'race'"));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
