package io.edgefleet.server.compression;

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

/** The compression migration on real PostgreSQL (the Quarkus tests cover H2); skipped when none is reachable. */
class CompressionMigrationPostgresTest {

    @Test
    void compressionTablesWorkOnPostgres() throws Exception {
        assumeTrue(Postgres.reachable(), "PostgreSQL is not reachable at " + Postgres.URL + ": migration test skipped");
        String schema = "edgefleet_cj_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try {
            Flyway.configure().dataSource(Postgres.URL, Postgres.USER, Postgres.PASSWORD).schemas(schema)
                    .createSchemas(true).locations("classpath:db/migration").load().migrate();
            try (Connection c = DriverManager.getConnection(Postgres.URL + "?currentSchema=" + schema, Postgres.USER,
                    Postgres.PASSWORD); Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO dataset (name, sha256, size_bytes, arrays, sample_count, has_labels,"
                        + " has_cohort, created_at) VALUES ('d', 'ab', 10, '[]', 4, TRUE, FALSE, 1)");
                st.executeUpdate("INSERT INTO compression_job (id, model_name, base_version, recipe, params,"
                        + " calibration_dataset, calibration_sha256, budget_overall, budget_cohort, status, progress,"
                        + " gate_passed, created_at) VALUES ('j', 'm', 1, 'dynamic-int8', '{}', 'd', 'ab', 0.5, 1.0,"
                        + " 'RUNNING', 0.25, NULL, 1)");
                st.executeUpdate("UPDATE compression_job SET status = 'FAILED' WHERE status IN ('QUEUED', 'RUNNING')");
                try (ResultSet rs = st.executeQuery("SELECT status, progress, budget_cohort FROM compression_job")) {
                    rs.next();
                    assertEquals("FAILED", rs.getString(1));
                    assertEquals(0.25, rs.getDouble(2));
                    assertEquals(1.0, rs.getDouble(3));
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
