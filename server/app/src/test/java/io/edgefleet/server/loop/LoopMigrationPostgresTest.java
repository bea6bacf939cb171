package io.edgefleet.server.loop;

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

/** The closed-loop migration (V11) on real PostgreSQL (the Quarkus tests cover H2); skipped when none is reachable. */
class LoopMigrationPostgresTest {

    @Test
    void loopTablesWorkOnPostgres() throws Exception {
        assumeTrue(Postgres.reachable(), "PostgreSQL is not reachable at " + Postgres.URL + ": migration test skipped");
        String schema = "edgefleet_lp_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try {
            Flyway.configure().dataSource(Postgres.URL, Postgres.USER, Postgres.PASSWORD).schemas(schema)
                    .createSchemas(true).locations("classpath:db/migration").load().migrate();
            try (Connection c = DriverManager.getConnection(Postgres.URL + "?currentSchema=" + schema, Postgres.USER,
                    Postgres.PASSWORD); Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO class_loop (class_id, mode, updated_at) VALUES ('c', 'AUTOMATIC', 1)");
                assertThrows(SQLException.class, () -> st.executeUpdate("INSERT INTO class_loop (class_id, updated_at)"
                        + " VALUES ('d', 1)"), "a class's switch always has a mode");
                String history = "[{\"at\":1,\"state\":\"READY\",\"note\":\"" + "x".repeat(5000) + "\"}]";
                st.executeUpdate("INSERT INTO loop_run (id, class_id, model_name, base_version, from_version,"
                        + " from_candidate, from_plan_id, alert_id, rule_id, request_id, metric, alert_fired_at, mode,"
                        + " strategy, state, reason, candidates, history, created_at, updated_at) VALUES ('l', 'c', 'm',"
                        + " 1, 2, 'identity', 'p', 7, 'r', 8, 'P95_LATENCY_MS', 1, 'AUTOMATIC', 'AGGRESSIVE', 'READY',"
                        + " 'why', '[\"fp16-storage\"]', '" + history + "', 1, 1)");
                st.executeUpdate("UPDATE loop_run SET state = 'PROMOTED', plan_job_id = 'p2', result_version = 3,"
                        + " deployment_id = 'd', canary_committed_at = 5, finished_at = 6 WHERE id = 'l'");
                try (ResultSet rs = st.executeQuery("SELECT state, length(history), canary_committed_at - alert_fired_at"
                        + " FROM loop_run WHERE class_id = 'c' ORDER BY created_at")) {
                    assertTrue(rs.next());
                    assertEquals("PROMOTED", rs.getString(1));
                    assertEquals(history.length(), rs.getInt(2), "the audit history is not cut");
                    assertEquals(4, rs.getLong(3));
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
