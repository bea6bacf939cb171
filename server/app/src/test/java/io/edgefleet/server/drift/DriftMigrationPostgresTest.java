package io.edgefleet.server.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.server.support.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/** The V6 migration on real PostgreSQL (the Quarkus tests cover H2); skipped when none is reachable. */
class DriftMigrationPostgresTest {

    @Test
    void referenceProfilesAndTelemetryColumnsWorkOnPostgres() throws Exception {
        assumeTrue(Postgres.reachable(), "PostgreSQL is not reachable at " + Postgres.URL + ": migration test skipped");
        String schema = "edgefleet_rp_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try {
            Flyway.configure().dataSource(Postgres.URL, Postgres.USER, Postgres.PASSWORD).schemas(schema)
                    .createSchemas(true).locations("classpath:db/migration").load().migrate();
            try (Connection c = DriverManager.getConnection(Postgres.URL + "?currentSchema=" + schema, Postgres.USER,
                    Postgres.PASSWORD); Statement st = c.createStatement()) {
                String big = "x".repeat(200_000);
                st.executeUpdate("INSERT INTO reference_profile (model_sha256, model_name, model_version, source, dataset,"
                        + " dataset_sha256, samples, profile, created_at) VALUES ('ab', 'm', 1, 'validation', 'd', 'cd', 10, '"
                        + big + "', 1)");
                st.executeUpdate("INSERT INTO device_class (id, name, arch, cores, ram_mb, storage_mb, precisions,"
                        + " slo_p95_latency_ms, slo_max_model_bytes, accuracy_overall_points, accuracy_cohort_points,"
                        + " created_at, updated_at) VALUES ('gw', 'gw', 'x86_64', 2, 1024, 4096, 'fp32', 50, 1000, 1, 2, 1, 1)");
                st.executeUpdate("INSERT INTO device (id, class_id, credential_hash, credential_updated_at, online,"
                        + " created_at) VALUES ('d1', 'gw', 'h', 1, FALSE, 1)");
                st.executeUpdate("INSERT INTO telemetry_window (id, device_id, message_id, seq, window_start, window_end,"
                        + " inferences, errors, dropped, replayed, received_at, energy_source, energy_joules, drift_js,"
                        + " drift_confidence_shift, drift_reference, drift_detail) VALUES (1, 'd1', 'm', 1, 1, 2, 5, 0, 0,"
                        + " FALSE, 3, 'rapl', 1.5, 0.2, -0.1, 'self', '{\"psi\":0.3}')");
                try (ResultSet rs = st.executeQuery("SELECT length(profile) FROM reference_profile")) {
                    rs.next();
                    assertEquals(200_000, rs.getInt(1));
                }
                try (ResultSet rs = st.executeQuery("SELECT energy_source, energy_joules, drift_reference FROM telemetry_window")) {
                    rs.next();
                    assertEquals("rapl", rs.getString(1));
                    assertEquals(1.5, rs.getDouble(2));
                    assertEquals("self", rs.getString(3));
                }
            }
        } finally {
            try (Connection c = DriverManager.getConnection(Postgres.URL, Postgres.USER, Postgres.PASSWORD);
                 Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }
}
