package io.edgefleet.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.server.support.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * The migrations are written once for H2 and PostgreSQL; the Quarkus tests prove them on H2, this
 * one runs them on a fresh schema of the local PostgreSQL (skipped, with a message, when none).
 */
class PostgresMigrationTest {
    private static final Set<String> TABLES = Set.of("device_class", "device", "device_tag", "device_event",
            "telemetry_window", "model_version", "deployment", "deployment_target", "published_artifact");

    @Test
    void migrationsRunOnAFreshPostgresSchema() throws Exception {
        assumeTrue(Postgres.reachable(), "PostgreSQL is not reachable at " + Postgres.URL + ": migration test skipped");
        String schema = "edgefleet_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try {
            Flyway.configure()
                    .dataSource(Postgres.URL, Postgres.USER, Postgres.PASSWORD)
                    .schemas(schema)
                    .createSchemas(true)
                    .locations("classpath:db/migration")
                    .load()
                    .migrate();
            try (Connection c = DriverManager.getConnection(Postgres.URL + "?currentSchema=" + schema, Postgres.USER,
                    Postgres.PASSWORD); Statement st = c.createStatement()) {
                Set<String> tables = new TreeSet<>();
                try (ResultSet rs = st.executeQuery("SELECT table_name FROM information_schema.tables WHERE table_schema = '"
                        + schema + "'")) {
                    while (rs.next()) {
                        tables.add(rs.getString(1));
                    }
                }
                assertTrue(tables.containsAll(TABLES), "tables: " + tables);

                st.executeUpdate("INSERT INTO device_class (id, name, arch, cores, ram_mb, storage_mb, precisions,"
                        + " slo_p95_latency_ms, slo_max_model_bytes, accuracy_overall_points, accuracy_cohort_points,"
                        + " created_at, updated_at) VALUES ('gw', 'gw', 'x86_64', 2, 1024, 4096, 'fp32', 50, 1000, 1, 2, 1, 1)");
                st.executeUpdate("INSERT INTO device (id, class_id, credential_hash, credential_updated_at, online,"
                        + " last_telemetry, created_at) VALUES ('d1', 'gw', '$7$101$a$b', 1, FALSE, '{\"seq\":1}', 1)");
                st.executeUpdate("INSERT INTO device_tag (device_id, tag) VALUES ('d1', 'lab')");
                try (ResultSet rs = st.executeQuery("SELECT nextval('telemetry_window_seq'), nextval('telemetry_window_seq')")) {
                    rs.next();
                    assertEquals(50, rs.getLong(2) - rs.getLong(1), "sequences step by the Hibernate allocation size");
                }
                assertThrows(SQLException.class, () -> st.executeUpdate("INSERT INTO device (id, class_id,"
                        + " credential_updated_at, online, created_at) VALUES ('d2', 'no-such-class', 1, FALSE, 1)"),
                        "foreign keys hold");
                st.executeUpdate("DELETE FROM device WHERE id = 'd1'");
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM device_tag")) {
                    rs.next();
                    assertEquals(0, rs.getLong(1), "tags go with their device");
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
