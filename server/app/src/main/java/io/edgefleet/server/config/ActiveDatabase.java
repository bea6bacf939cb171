package io.edgefleet.server.config;

import io.agroal.api.AgroalDataSource;
import io.quarkus.agroal.DataSource;
import io.quarkus.arc.InjectableInstance;
import io.quarkus.hibernate.orm.PersistenceUnit;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.hibernate.Session;

/**
 * Exposes the session and datasource of whichever persistence unit {@link DatabaseSelection}
 * activated, so the rest of the code injects a plain {@link Session} and never cares which
 * database is behind it.
 */
@ApplicationScoped
public class ActiveDatabase {

    @Inject
    @PersistenceUnit(DatabaseSelection.H2)
    InjectableInstance<Session> h2Session;

    @Inject
    @PersistenceUnit(DatabaseSelection.POSTGRESQL)
    InjectableInstance<Session> pgSession;

    @Inject
    @DataSource(DatabaseSelection.H2)
    InjectableInstance<AgroalDataSource> h2DataSource;

    @Inject
    @DataSource(DatabaseSelection.POSTGRESQL)
    InjectableInstance<AgroalDataSource> pgDataSource;

    /** The container-managed, transaction-scoped session of the active persistence unit. */
    @Produces
    @Singleton
    Session session() {
        return pick(h2Session, pgSession, "persistence unit");
    }

    /** For the few plain-JDBC reads that must not open a Hibernate session (broker authentication). */
    @Produces
    @Singleton
    @Active
    AgroalDataSource dataSource() {
        return pick(h2DataSource, pgDataSource, "datasource");
    }

    private static <T> T pick(InjectableInstance<T> h2, InjectableInstance<T> pg, String what) {
        if (h2.getHandle().getBean().isActive()) {
            return h2.get();
        }
        if (pg.getHandle().getBean().isActive()) {
            return pg.get();
        }
        throw new IllegalStateException("no active " + what + ": set EDGEFLEET_DB_KIND to h2 or postgresql"
                + " (postgresql also needs EDGEFLEET_DB_URL)");
    }
}
