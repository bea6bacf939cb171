package io.edgefleet.server.security;

import io.agroal.api.AgroalDataSource;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.config.Active;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Broker-side view of device credentials: checks a device's password against its stored hash and
 * tells the authorizer which class an active device belongs to. Reads with plain JDBC because
 * the broker calls in on its own threads, outside any request or transaction.
 */
@ApplicationScoped
public class DeviceCredentials {
    private static final Logger LOG = Logger.getLogger(DeviceCredentials.class);

    private record Row(String hash, String classId) {
    }

    /** deviceId -> classId for devices whose credential is active; the authorizer asks on every publish. */
    private final ConcurrentHashMap<String, String> activeClass = new ConcurrentHashMap<>();

    @Inject
    @Active
    AgroalDataSource dataSource;

    public boolean authenticate(String deviceId, byte[] password) {
        if (!Topics.isId(deviceId) || password == null || password.length == 0) {
            return false;
        }
        Row row = load(deviceId);
        if (row == null || row.hash() == null) {
            return false;
        }
        boolean ok = MosquittoPasswordHash.verify(new String(password, StandardCharsets.UTF_8), row.hash());
        if (ok) {
            activeClass.put(deviceId, row.classId());
        }
        return ok;
    }

    /** The class of a device whose credential is active, or empty when unknown or revoked. */
    public Optional<String> activeClassOf(String deviceId) {
        String cached = activeClass.get(deviceId);
        if (cached != null) {
            return Optional.of(cached);
        }
        Row row = Topics.isId(deviceId) ? load(deviceId) : null;
        if (row == null || row.hash() == null) {
            return Optional.empty();
        }
        activeClass.put(deviceId, row.classId());
        return Optional.of(row.classId());
    }

    void onChanged(@Observes(during = TransactionPhase.AFTER_SUCCESS) CredentialsChanged event) {
        activeClass.remove(event.deviceId());
    }

    private Row load(String deviceId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT credential_hash, class_id FROM device WHERE id = ?")) {
            ps.setString(1, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Row(rs.getString(1), rs.getString(2)) : null;
            }
        } catch (SQLException e) {
            // Fail closed: a database hiccup refuses the device rather than letting it in unchecked.
            LOG.warnf("cannot look up credentials of device %s: %s", deviceId, e.getMessage());
            return null;
        }
    }
}
