package io.edgefleet.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DatabaseSelectionTest {

    @Test
    void kindFollowsExplicitSettingThenUrl() {
        assertEquals("h2", DatabaseSelection.chooseKind(null, null));
        assertEquals("h2", DatabaseSelection.chooseKind("", " "));
        assertEquals("postgresql", DatabaseSelection.chooseKind(null, "jdbc:postgresql://db/edgefleet"));
        assertEquals("postgresql", DatabaseSelection.chooseKind("PostgreSQL", null));
        assertEquals("postgresql", DatabaseSelection.chooseKind("pg", "jdbc:postgresql://db/x"));
        assertEquals("h2", DatabaseSelection.chooseKind("h2", "jdbc:postgresql://db/x"), "an explicit kind wins");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DatabaseSelection.chooseKind("mysql", null));
        assertEquals("edgefleet.db.kind (EDGEFLEET_DB_KIND) must be 'h2' or 'postgresql', not 'mysql'", e.getMessage());
    }

    @Test
    void exactlyOneDatabaseIsActive() {
        Map<String, String> pg = DatabaseSelection.activationFlags("postgresql");
        assertEquals("true", pg.get("quarkus.datasource.\"postgresql\".active"));
        assertEquals("true", pg.get("quarkus.hibernate-orm.\"postgresql\".active"));
        assertEquals("true", pg.get("quarkus.flyway.\"postgresql\".active"));
        assertEquals("false", pg.get("quarkus.datasource.\"h2\".active"));
        assertEquals("false", pg.get("quarkus.hibernate-orm.\"h2\".active"));
        assertEquals("false", pg.get("quarkus.flyway.\"h2\".active"));
        Map<String, String> h2 = DatabaseSelection.activationFlags("h2");
        assertEquals("true", h2.get("quarkus.datasource.\"h2\".active"));
        assertEquals("false", h2.get("quarkus.datasource.\"postgresql\".active"));
    }
}
