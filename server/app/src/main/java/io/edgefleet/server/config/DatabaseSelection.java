package io.edgefleet.server.config;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.common.MapBackedConfigSource;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Chooses the database at start-up. Quarkus fixes a datasource's kind at build time, so the
 * application declares two datasources and persistence units ("h2" and "postgresql") and this
 * factory activates exactly one of them from {@code edgefleet.db.kind} / {@code edgefleet.db.url}
 * (env {@code EDGEFLEET_DB_KIND}, {@code EDGEFLEET_DB_URL}). One jar then serves both databases.
 */
public class DatabaseSelection implements ConfigSourceFactory {
    public static final String H2 = "h2";
    public static final String POSTGRESQL = "postgresql";

    /** Below system properties (400) and env (300) so an operator can still override a flag by hand. */
    static final int ORDINAL = 275;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        String kind = chooseKind(value(context, "edgefleet.db.kind"), value(context, "edgefleet.db.url"));
        return List.of(new MapBackedConfigSource("edgefleet-database-selection", activationFlags(kind), ORDINAL) {
        });
    }

    /** The datasource kind to use: explicit kind wins, else PostgreSQL when a URL is given, else H2. */
    public static String chooseKind(String kind, String url) {
        if (kind != null && !kind.isBlank()) {
            String k = kind.trim().toLowerCase(Locale.ROOT);
            return switch (k) {
                case "h2" -> H2;
                case "postgresql", "postgres", "pg" -> POSTGRESQL;
                default -> throw new IllegalArgumentException(
                        "edgefleet.db.kind (EDGEFLEET_DB_KIND) must be 'h2' or 'postgresql', not '" + kind + "'");
            };
        }
        return url != null && !url.isBlank() ? POSTGRESQL : H2;
    }

    static Map<String, String> activationFlags(String kind) {
        String h2 = String.valueOf(H2.equals(kind));
        String pg = String.valueOf(POSTGRESQL.equals(kind));
        return Map.of(
                "quarkus.datasource.\"h2\".active", h2,
                "quarkus.hibernate-orm.\"h2\".active", h2,
                "quarkus.flyway.\"h2\".active", h2,
                "quarkus.datasource.\"postgresql\".active", pg,
                "quarkus.hibernate-orm.\"postgresql\".active", pg,
                "quarkus.flyway.\"postgresql\".active", pg);
    }

    private static String value(ConfigSourceContext context, String name) {
        ConfigValue v = context.getValue(name);
        return v == null ? null : v.getValue();
    }
}
