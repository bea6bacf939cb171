package io.edgefleet.server.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.server.support.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The database side of telemetry ingest on PostgreSQL, both ways in one run, one committed transaction per
 * batch, batches alternating so both see the same table size:
 * <ul>
 *   <li><b>per-row</b>: what ingest did before: look up the devices, look up the (device, message id) pairs
 *       already stored, insert the rest as a JDBC batch ({@code reWriteBatchedInserts=true}, so multi-row
 *       INSERTs; ids from a counter, which flatters this side: Hibernate also fetched them from the
 *       sequence), then one UPDATE per device as a JDBC batch;</li>
 *   <li><b>unnest</b>: {@link PostgresTelemetryWriter}, three statements per batch.</li>
 * </ul>
 * Run: {@code ./mvnw -B -q -pl server/app -am test -Dtest=TelemetryWriteBenchmark -Dbench.telemetry-write=true
 * -Dsurefire.failIfNoSpecifiedTests=false} (options {@code -Dbench.batches=200 -Dbench.batch=500
 * -Dbench.devices=100}). Needs the local PostgreSQL; uses a fresh schema and drops it.
 */
@EnabledIfSystemProperty(named = "bench.telemetry-write", matches = "true")
class TelemetryWriteBenchmark {
    static final int BATCHES = Integer.getInteger("bench.batches", 200);
    static final int BATCH = Integer.getInteger("bench.batch", 500);
    static final int DEVICES = Integer.getInteger("bench.devices", 100);

    @Test
    void perRowVersusUnnest() throws Exception {
        assumeTrue(Postgres.reachable(), "PostgreSQL is not reachable at " + Postgres.URL);
        String schema = "edgefleet_twb_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        Flyway.configure().dataSource(Postgres.URL, Postgres.USER, Postgres.PASSWORD).schemas(schema).createSchemas(true)
                .locations("classpath:db/migration").load().migrate();
        try (Connection c = DriverManager.getConnection(Postgres.URL + "?currentSchema=" + schema
                + "&reWriteBatchedInserts=true", Postgres.USER, Postgres.PASSWORD)) {
            try (Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO device_class (id, name, arch, cores, ram_mb, storage_mb, precisions,"
                        + " slo_p95_latency_ms, slo_max_model_bytes, accuracy_overall_points, accuracy_cohort_points,"
                        + " created_at, updated_at) VALUES ('gw', 'gw', 'x86_64', 2, 1024, 4096, 'fp32', 50, 1000, 1, 2, 1, 1)");
                for (int d = 0; d < 2 * DEVICES; d++) {
                    st.executeUpdate("INSERT INTO device (id, class_id, credential_updated_at, online, created_at)"
                            + " VALUES ('" + device(d) + "', 'gw', 1, TRUE, 1)");
                }
            }
            c.setAutoCommit(false);
            long[] nanos = new long[2];
            long nextId = 1_000_000_000L;
            int perDeviceAndBatch = Math.max(1, BATCH / DEVICES);
            for (int b = 0; b < BATCHES + 2; b++) {
                boolean warmUp = b < 2;
                for (int side = 0; side < 2; side++) {
                    // Side 0 writes devices 0..D-1, side 1 devices D..2D-1: each side its own rows, same table.
                    List<TelemetryWindow> ws = new ArrayList<>(BATCH);
                    for (int k = 0; k < perDeviceAndBatch; k++) {
                        for (int d = 0; d < DEVICES; d++) {
                            long seq = (long) b * perDeviceAndBatch + k;
                            ws.add(PostgresTelemetryWriterTest.window(device(side * DEVICES + d),
                                    "m-" + side + "-" + d + "-" + seq, seq, false));
                        }
                    }
                    long t = System.nanoTime();
                    int stored;
                    if (side == 0) {
                        stored = perRow(c, ws, nextId, 1_000);
                        nextId += ws.size();
                    } else {
                        stored = PostgresTelemetryWriter.store(c, ws, 1_000, w -> "{}").stored();
                    }
                    c.commit();
                    if (!warmUp) {
                        nanos[side] += System.nanoTime() - t;
                    }
                    assertEquals(ws.size(), stored);
                }
            }
            long rows = (long) BATCHES * perDeviceAndBatch * DEVICES;
            double perRow = rows / (nanos[0] / 1e9);
            double unnest = rows / (nanos[1] / 1e9);
            System.out.println();
            System.out.println("Telemetry writes on PostgreSQL: " + BATCHES + " batches of " + perDeviceAndBatch * DEVICES
                    + " windows from " + DEVICES + " devices, one commit per batch");
            System.out.printf(Locale.ROOT, "  %-44s %12.0f rows/s%n", "per-row (look-up + JDBC batch + per-device updates)", perRow);
            System.out.printf(Locale.ROOT, "  %-44s %12.0f rows/s%n", "unnest (PostgresTelemetryWriter)", unnest);
            System.out.printf(Locale.ROOT, "  %-44s %12.2f%n", "ratio unnest / per-row", unnest / perRow);
        } finally {
            try (Connection c = DriverManager.getConnection(Postgres.URL, Postgres.USER, Postgres.PASSWORD);
                    Statement st = c.createStatement()) {
                st.executeUpdate("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    static String device(int i) {
        return String.format(Locale.ROOT, "dev-%05d", i);
    }

    /** The former path in plain JDBC: two look-ups, a batch of inserts, a batch of per-device updates. */
    static int perRow(Connection c, List<TelemetryWindow> ws, long firstId, long receivedAt) throws Exception {
        Set<String> ids = new TreeSet<>();
        Set<String> mids = new HashSet<>();
        ws.forEach(w -> {
            ids.add(w.deviceId());
            mids.add(w.id());
        });
        Set<String> known = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM device WHERE id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("varchar", ids.toArray()));
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    known.add(r.getString(1));
                }
            }
        }
        Set<String> seen = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT device_id, message_id FROM telemetry_window WHERE device_id = ANY (?) AND message_id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("varchar", known.toArray()));
            ps.setArray(2, c.createArrayOf("varchar", mids.toArray()));
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    seen.add(r.getString(1) + '\u0000' + r.getString(2));
                }
            }
        }
        int stored = 0;
        long id = firstId;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO telemetry_window (id, device_id, message_id, seq,"
                + " window_start, window_end, model_name, model_version, model_sha256, inferences, errors, latency_p50,"
                + " latency_p95, latency_p99, latency_max, latency_mean, energy_mj, drift, dropped, replayed, received_at,"
                + " energy_source, energy_joules, drift_js, drift_confidence_shift, drift_reference, drift_detail)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (TelemetryWindow w : ws) {
                if (!known.contains(w.deviceId()) || !seen.add(w.deviceId() + '\u0000' + w.id())) {
                    continue;
                }
                TelemetryWindowEntity e = TelemetryView.toEntity(w, receivedAt);
                Object[] row = {id++, e.deviceId, e.messageId, e.seq, e.windowStart, e.windowEnd, e.modelName,
                        e.modelVersion, e.modelSha256, e.inferences, e.errors, e.latencyP50, e.latencyP95, e.latencyP99,
                        e.latencyMax, e.latencyMean, e.energyMj, e.drift, e.dropped, e.replayed, e.receivedAt,
                        e.energySource, e.energyJoules, e.driftJs, e.driftConfidenceShift, e.driftReference, e.driftDetail};
                for (int i = 0; i < row.length; i++) {
                    ps.setObject(i + 1, row[i]);
                }
                ps.addBatch();
                stored++;
            }
            ps.executeBatch();
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE device SET last_seen = ?, last_telemetry = COALESCE(?,"
                + " last_telemetry), online = CASE WHEN swept THEN TRUE ELSE online END, swept = FALSE WHERE id = ?")) {
            for (String d : new TreeSet<>(known)) {
                ps.setLong(1, receivedAt);
                ps.setString(2, "{}");
                ps.setString(3, d);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return stored;
    }
}
