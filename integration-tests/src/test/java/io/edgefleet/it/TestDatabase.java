package io.edgefleet.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;
import java.security.SecureRandom;

/**
 * The database a test server runs on: a fresh PostgreSQL database when PostgreSQL answers on
 * 127.0.0.1:5432 (the production database), otherwise the server's default embedded H2 file in its
 * data dir. {@code -Dedgefleet.it.db=h2} or {@code =postgresql} forces one (postgresql then fails
 * loudly when unreachable instead of falling back).
 */
public abstract class TestDatabase implements AutoCloseable {

    /** Environment for the server process: {@code EDGEFLEET_DB_KIND/_URL/_USERNAME/_PASSWORD} (edgefleet.db.*). */
    public abstract Map<String, String> serverEnv();

    public abstract String description();

    /** A JDBC connection to the server's database, to check what it stored; only PostgreSQL offers one. */
    public java.util.Optional<Connection> connect() {
        return java.util.Optional.empty();
    }

    @Override
    public abstract void close();

    public static TestDatabase choose() {
        String forced = System.getProperty("edgefleet.it.db", "auto");
        TestDatabase db = switch (forced) {
            case "h2" -> new H2();
            case "postgresql" -> Postgres.create().orElseThrow(() ->
                    new IllegalStateException("-Dedgefleet.it.db=postgresql but PostgreSQL at "
                            + Postgres.ADMIN_URL + " does not accept connections"));
            case "auto" -> Postgres.create().map(p -> (TestDatabase) p).orElseGet(H2::new);
            default -> throw new IllegalArgumentException("edgefleet.it.db must be auto, h2 or postgresql, not " + forced);
        };
        Log.info("database: " + db.description());
        return db;
    }

    /** H2 whatever -Dedgefleet.it.db says, for a test about the embedded database itself. */
    public static TestDatabase h2() {
        TestDatabase db = new H2();
        Log.info("database: " + db.description());
        return db;
    }

    /** The server's own default: an H2 file under its data dir; nothing to create or drop. */
    static final class H2 extends TestDatabase {
        @Override
        public Map<String, String> serverEnv() {
            return Map.of();
        }

        @Override
        public String description() {
            return "H2 (the server's embedded default; PostgreSQL not used)";
        }

        @Override
        public void close() {
        }
    }

    /** A throw-away database on the local PostgreSQL (trust auth, user postgres), dropped afterwards. */
    static final class Postgres extends TestDatabase {
        static final String HOST = "127.0.0.1";
        static final int PORT = 5432;
        static final String ADMIN_URL = "jdbc:postgresql://" + HOST + ":" + PORT + "/test";
        static final String USER = "postgres";

        private final String name;

        private Postgres(String name) {
            this.name = name;
        }

        static java.util.Optional<Postgres> create() {
            if (!Net.accepts(HOST, PORT, 1000)) {
                return java.util.Optional.empty();
            }
            byte[] random = new byte[5];
            new SecureRandom().nextBytes(random);
            String name = "edgefleet_it_" + HexFormat.of().formatHex(random);
            try (Connection c = admin(); Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + name);
                return java.util.Optional.of(new Postgres(name));
            } catch (SQLException e) {
                Log.info("PostgreSQL at " + ADMIN_URL + " is reachable but refused CREATE DATABASE ("
                        + e.getMessage() + "); falling back to H2");
                return java.util.Optional.empty();
            }
        }

        String name() {
            return name;
        }

        String jdbcUrl() {
            return "jdbc:postgresql://" + HOST + ":" + PORT + "/" + name;
        }

        @Override
        public Map<String, String> serverEnv() {
            return Map.of(
                    "EDGEFLEET_DB_KIND", "postgresql",
                    "EDGEFLEET_DB_URL", jdbcUrl(),
                    "EDGEFLEET_DB_USERNAME", USER,
                    // Trust authentication: any password is accepted; a non-empty one keeps config parsers happy.
                    "EDGEFLEET_DB_PASSWORD", "postgres");
        }

        @Override
        public java.util.Optional<Connection> connect() {
            Properties p = new Properties();
            p.setProperty("user", USER);
            p.setProperty("password", "postgres");
            try {
                return java.util.Optional.of(DriverManager.getConnection(jdbcUrl(), p));
            } catch (SQLException e) {
                throw new IllegalStateException("cannot connect to " + jdbcUrl() + ": " + e.getMessage(), e);
            }
        }

        @Override
        public String description() {
            return "PostgreSQL " + jdbcUrl() + " (fresh database, dropped afterwards)";
        }

        @Override
        public void close() {
            try (Connection c = admin(); Statement s = c.createStatement()) {
                // FORCE (PostgreSQL 13+) ends connections a killed server may have left behind.
                s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            } catch (SQLException e) {
                Log.info("could not drop test database " + name + ": " + e.getMessage());
            }
        }

        private static Connection admin() throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", USER);
            p.setProperty("password", "postgres");
            p.setProperty("connectTimeout", "3");
            return DriverManager.getConnection(ADMIN_URL, p);
        }
    }
}
