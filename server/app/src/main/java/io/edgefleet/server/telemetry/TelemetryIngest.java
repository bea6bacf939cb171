package io.edgefleet.server.telemetry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocol.TelemetryWindow;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hibernate.Session;

/**
 * Stores telemetry windows in batches, one transaction per batch, once per (device, message id):
 * windows already stored (a QoS 1 redelivery, an agent replaying what it holds unconfirmed) are
 * reported as duplicates, not stored again. On PostgreSQL the batch is three statements
 * ({@link PostgresTelemetryWriter}: {@code ON CONFLICT DO NOTHING} decides uniqueness, even when two
 * replicas race); elsewhere (H2) the stored pairs are looked up in the same transaction, the rest
 * inserted in JDBC batches, and the unique constraint catches what two replicas race on (the caller
 * retries, and the retry finds them). Either way each device's last-seen time and newest window are
 * kept current in the same transaction.
 */
@ApplicationScoped
public class TelemetryIngest {
    /** JDBC batch size for the inserts of one ingest batch. */
    static final int JDBC_BATCH = 500;

    /** A window that is committed after this call: stored now or found stored before. */
    public record Committed(String deviceId, long seq, Long ackBase) {
    }

    public record Result(int stored, int duplicates, List<String> unknownDevices, List<Committed> committed) {
    }

    @Inject
    Session session;

    @Inject
    ObjectMapper json;

    /** Whether the active database is PostgreSQL (decided on first use, from the connection's metadata). */
    private volatile Boolean postgres;

    @Transactional
    public Result store(List<TelemetryWindow> windows, long receivedAt) {
        if (postgres()) {
            return session.doReturningWork(c -> PostgresTelemetryWriter.store(c, windows, receivedAt,
                    w -> toJson(TelemetryView.of(w, receivedAt))));
        }
        return storeWithHibernate(windows, receivedAt);
    }

    private boolean postgres() {
        Boolean pg = postgres;
        if (pg == null) {
            pg = session.doReturningWork(c -> "PostgreSQL".equalsIgnoreCase(c.getMetaData().getDatabaseProductName()));
            postgres = pg;
        }
        return pg;
    }

    /** H2 (and any other database): a look-up of what is stored, then JDBC batches of entity inserts. */
    private Result storeWithHibernate(List<TelemetryWindow> windows, long receivedAt) {
        session.setJdbcBatchSize(JDBC_BATCH);
        Set<String> ids = new TreeSet<>();
        Set<String> messageIds = new HashSet<>();
        windows.forEach(w -> {
            ids.add(w.deviceId());
            messageIds.add(w.id());
        });
        Set<String> known = new HashSet<>(session.createSelectionQuery(
                        "select d.id from DeviceEntity d where d.id in :ids", String.class)
                .setParameter("ids", ids).getResultList());
        Set<String> seen = new HashSet<>();
        if (!known.isEmpty()) {
            for (Object[] row : session.createSelectionQuery(
                            "select t.deviceId, t.messageId from TelemetryWindowEntity t"
                                    + " where t.deviceId in :ids and t.messageId in :mids", Object[].class)
                    .setParameter("ids", known).setParameter("mids", messageIds).getResultList()) {
                seen.add(key((String) row[0], (String) row[1]));
            }
        }
        List<String> unknown = new ArrayList<>();
        List<Committed> committed = new ArrayList<>(windows.size());
        Map<String, TelemetryWindow> newest = new HashMap<>();
        int stored = 0;
        int duplicates = 0;
        for (TelemetryWindow w : windows) {
            if (!known.contains(w.deviceId())) {
                unknown.add(w.deviceId());
                continue;
            }
            committed.add(new Committed(w.deviceId(), w.seq(), w.ackBase()));
            if (!seen.add(key(w.deviceId(), w.id()))) {
                duplicates++;
                continue;
            }
            session.persist(TelemetryView.toEntity(w, receivedAt));
            stored++;
            // Replayed windows are old news from the offline buffer: stored, but not the device's "last" window.
            if (!w.replayed()) {
                newest.merge(w.deviceId(), w, (a, b) -> b.windowEnd() >= a.windowEnd() ? b : a);
            }
        }
        // Device rows in id order, so two replicas updating the same devices lock them in the same order.
        Map<String, String> lastJson = new TreeMap<>();
        for (String id : known) {
            TelemetryWindow w = newest.get(id);
            lastJson.put(id, w == null ? null : toJson(TelemetryView.of(w, receivedAt)));
        }
        session.flush();
        session.doWork(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE device SET last_seen = ?, last_telemetry = COALESCE(?, last_telemetry),"
                            + " online = CASE WHEN swept THEN TRUE ELSE online END, swept = FALSE WHERE id = ?")) {
                for (Map.Entry<String, String> e : lastJson.entrySet()) {
                    ps.setLong(1, receivedAt);
                    if (e.getValue() == null) {
                        ps.setNull(2, java.sql.Types.VARCHAR);
                    } else {
                        ps.setString(2, e.getValue());
                    }
                    ps.setString(3, e.getKey());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        });
        return new Result(stored, duplicates, unknown, committed);
    }

    /** Seqs of a device stored above {@code after} up to {@code upTo} (for the cumulative acknowledgement). */
    @Transactional
    public List<Long> storedSeqs(String deviceId, long after, long upTo) {
        return session.createSelectionQuery("select t.seq from TelemetryWindowEntity t where t.deviceId = :d"
                        + " and t.seq > :after and t.seq <= :upTo order by t.seq", Long.class)
                .setParameter("d", deviceId).setParameter("after", after).setParameter("upTo", upTo)
                .setMaxResults(AckWatermarks.MAX_ABOVE).getResultList();
    }

    private static String key(String deviceId, String messageId) {
        return deviceId + '\u0000' + messageId;
    }

    private String toJson(TelemetryView v) {
        try {
            return json.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
