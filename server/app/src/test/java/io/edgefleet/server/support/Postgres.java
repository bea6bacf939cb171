package io.edgefleet.server.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/** The local PostgreSQL the build machine offers (trust auth); tests that need it skip when it is absent. */
public final class Postgres {
    public static final String URL = "jdbc:postgresql://127.0.0.1:5432/test";
    public static final String USER = "postgres";
    public static final String PASSWORD = "";

    private Postgres() {
    }

    public static boolean reachable() {
        DriverManager.setLoginTimeout(3);
        try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD)) {
            return c.isValid(3);
        } catch (SQLException e) {
            return false;
        }
    }
}
