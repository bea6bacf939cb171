package io.edgefleet.server.planner;

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
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/** The planner migration (V7) on real PostgreSQL (the Quarkus tests cover H2); skipped when none is reachable. */
class PlannerMigrationPostgresTest {

    @Test
    void plannerTablesAndClassColumnsWorkOnPostgres() throws Exception {
        assumeTrue(Postgres.reachable(), "PostgreSQL is not reachable at " + Postgres.URL + ": migration test skipped");
        String schema = "edgefleet_pl_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try {
            Flyway.configure().dataSource(Postgres.URL, Postgres.USER, Postgres.PASSWORD).schemas(schema)
                    .createSchemas(true).locations("classpath:db/migration").load().migrate();
            try (Connection c = DriverManager.getConnection(Postgres.URL + "?currentSchema=" + schema, Postgres.USER,
                    Postgres.PASSWORD); Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO device_class (id, name, arch, cores, ram_mb, storage_mb, precisions,"
                        + " slo_p95_latency_ms, slo_max_model_bytes, accuracy_overall_points, accuracy_cohort_points,"
                        + " created_at, updated_at, fp16_arithmetic, latency_scale) VALUES ('c', 'c', 'x86_64', 2,"
                        + " 1024, 4096, 'fp32,fp16', 10, 1000, 1, 2, 1, 1, TRUE, 2.5)");
                st.executeUpdate("INSERT INTO plan_job (id, model_name, base_version, device_class_id,"
                        + " validation_dataset, validation_sha256, request, status, progress, created_at) VALUES"
                        + " ('p', 'm', 1, 'c', 'v', 'ab', '{}', 'RUNNING', 0.5, 1)");
                st.executeUpdate("INSERT INTO variant_lineage (id, plan_job_id, model_name, device_class_id, role,"
                        + " model_version, sha256, base_sha256, parent_version, recipe, params, validation_sha256,"
                        + " engine_version, metrics, created_at) VALUES ('l', 'p', 'm', 'c', 'chosen', 2, 'cd', 'ab',"
                        + " 1, 'identity', '{}', 'ab', '0.1.0', '{}', 1)");
                st.executeUpdate("INSERT INTO class_variant (id, model_name, device_class_id, model_version,"
                        + " plan_job_id, lineage_id, updated_at) VALUES ('m|c', 'm', 'c', 2, 'p', 'l', 1)");
                // one registry row per model and class
                assertThrows(SQLException.class, () -> st.executeUpdate("INSERT INTO class_variant (id, model_name,"
                        + " device_class_id, model_version, plan_job_id, lineage_id, updated_at) VALUES ('other',"
                        + " 'm', 'c', 3, 'p', 'l', 2)"));
                try (ResultSet rs = st.executeQuery("SELECT fp16_arithmetic, latency_scale FROM device_class")) {
                    assertTrue(rs.next());
                    assertTrue(rs.getBoolean(1));
                    assertEquals(2.5, rs.getDouble(2));
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
