package io.edgefleet.server.mqtt;

import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.device.DeviceEntity;
import io.edgefleet.server.device.ServerLoginEntity;
import io.edgefleet.server.security.MosquittoPasswordHash;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * The broker users of every server replica that shares this database. One Mosquitto serving several replicas needs
 * each replica's user in its password file and ACL (the shipped config ties the client id to the user name, so
 * replicas cannot share one login); a replica renders only what it knows, so each records its own login here at
 * start and the rendered files list them all. A replica scaled down for good is removed with
 * {@code DELETE /api/v1/broker/server-logins/{username}}; until then its user keeps the server's broker rights.
 */
@ApplicationScoped
public class ServerLogins {
    private static final Logger LOG = Logger.getLogger(ServerLogins.class);

    /** A replica's broker user and the {@code $7$} hash of its password. */
    public record Login(String username, String passwordHash) {
    }

    @Inject
    EdgefleetConfig config;

    @Inject
    Session session;

    void record(@Observes StartupEvent event) {
        Optional<String[]> own = ownCredential();
        if (own.isEmpty()) {
            return;
        }
        String user = own.get()[0];
        String hash = MosquittoPasswordHash.hash(own.get()[1]);
        QuarkusTransaction.requiringNew().run(() -> {
            if (session.find(DeviceEntity.class, user) != null) {
                // A device with the same name would share the server's line in the password file and its ACL block.
                throw new IllegalStateException("edgefleet.mqtt.username '" + user + "' is the id of a registered device;"
                        + " give the server a broker user no device has");
            }
            ServerLoginEntity e = session.find(ServerLoginEntity.class, user);
            if (e == null) {
                e = new ServerLoginEntity();
                e.username = user;
                e.passwordHash = hash;
                e.recordedAt = System.currentTimeMillis();
                session.persist(e);
            } else if (!MosquittoPasswordHash.verify(own.get()[1], e.passwordHash)) {
                e.passwordHash = hash;
                e.recordedAt = System.currentTimeMillis();
            }
        });
        LOG.infof("Recorded broker user '%s' for the rendered Mosquitto files", user);
    }

    /**
     * Every replica's login, this replica's first (with a fresh hash of its configured password, so the rendered
     * file is right even before the start-up record), then the others by name. Call inside a transaction.
     */
    public List<Login> all() {
        List<Login> out = new ArrayList<>();
        Optional<String[]> own = ownCredential();
        own.ifPresent(c -> out.add(new Login(c[0], MosquittoPasswordHash.hash(c[1]))));
        for (ServerLoginEntity e : session.createSelectionQuery("from ServerLoginEntity order by username",
                ServerLoginEntity.class).getResultList()) {
            if (own.isEmpty() || !own.get()[0].equals(e.username)) {
                out.add(new Login(e.username, e.passwordHash));
            }
        }
        return out;
    }

    /** True when {@code username} is some replica's broker user (a device may not take it). Call inside a transaction. */
    public boolean contains(String username) {
        return ownCredential().map(c -> c[0].equals(username)).orElse(false)
                || session.find(ServerLoginEntity.class, username) != null;
    }

    /** Which of {@code usernames} are replicas' broker users, in one query (bulk registration). Call inside a transaction. */
    public java.util.Set<String> among(java.util.Collection<String> usernames) {
        java.util.Set<String> out = new java.util.HashSet<>();
        ownCredential().map(c -> c[0]).filter(usernames::contains).ifPresent(out::add);
        if (!usernames.isEmpty()) {
            out.addAll(session.createSelectionQuery("select e.username from ServerLoginEntity e where e.username in :names",
                    String.class).setParameter("names", usernames).getResultList());
        }
        return out;
    }

    /** Forgets a replica's login (scaled down for good); false when there was none. Call inside a transaction. */
    public boolean remove(String username) {
        ServerLoginEntity e = session.find(ServerLoginEntity.class, username);
        if (e == null) {
            return false;
        }
        session.remove(e);
        return true;
    }

    /** This replica's configured user and password for an external broker ({@code edgefleet.mqtt.username/password}). */
    Optional<String[]> ownCredential() {
        String user = config.mqtt().username().map(String::trim).orElse("");
        String pass = config.mqtt().password().orElse("");
        return user.isEmpty() || pass.isEmpty() ? Optional.empty() : Optional.of(new String[] {user, pass});
    }
}
