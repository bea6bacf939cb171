package io.edgefleet.server.telemetry;

import io.edgefleet.protocol.TelemetryWindow;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The PostgreSQL path of {@link TelemetryIngest}: a batch of windows in three statements inside the
 * caller's transaction, whatever its size. The devices are locked in id order (so two replicas never
 * deadlock on them) and found in one {@code SELECT ... FOR UPDATE}; every window goes in one
 * {@code INSERT ... SELECT FROM unnest(arrays) ON CONFLICT (device_id, message_id) DO NOTHING RETURNING},
 * so uniqueness is the database's answer (a window another replica committed first is waited for and
 * skipped, not a constraint error) and the rows it returns are exactly the ones stored now; one
 * {@code UPDATE ... FROM unnest} moves the devices' last-seen time and newest window. Plain JDBC and
 * plain Java, so it is tested against PostgreSQL without the server.
 */
final class PostgresTelemetryWriter {
    static final String LOCK_DEVICES = "SELECT id FROM device WHERE id = ANY (?) ORDER BY id FOR UPDATE";

    /** Ids from the sequence Hibernate allocates from too: a raw nextval is never inside one of its blocks. */
    static final String INSERT = "INSERT INTO telemetry_window (id, received_at, device_id, message_id, seq,"
            + " window_start, window_end, model_name, model_version, model_sha256, inferences, errors, latency_p50,"
            + " latency_p95, latency_p99, latency_max, latency_mean, energy_mj, drift, dropped, replayed, energy_source,"
            + " energy_joules, drift_js, drift_confidence_shift, drift_reference, drift_detail)"
            + " SELECT nextval('telemetry_window_seq'), ?, t.* FROM unnest(?::varchar[], ?::varchar[], ?::int8[],"
            + " ?::int8[], ?::int8[], ?::varchar[], ?::int8[], ?::varchar[], ?::int8[], ?::int8[], ?::float8[],"
            + " ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::int8[], ?::bool[],"
            + " ?::varchar[], ?::float8[], ?::float8[], ?::float8[], ?::varchar[], ?::varchar[]) AS t"
            + " ON CONFLICT (device_id, message_id) DO NOTHING RETURNING device_id, message_id";

    static final String TOUCH_DEVICES = "UPDATE device d SET last_seen = ?,"
            + " last_telemetry = COALESCE(u.last_telemetry, d.last_telemetry),"
            + " online = CASE WHEN d.swept THEN TRUE ELSE d.online END, swept = FALSE"
            + " FROM unnest(?::varchar[], ?::varchar[]) AS u(id, last_telemetry) WHERE d.id = u.id";

    private PostgresTelemetryWriter() {
    }

    /**
     * Stores the windows of known devices once per (device, message id) and touches the devices.
     *
     * @param lastTelemetry the JSON kept as a device's {@code last_telemetry} for its newest stored window
     */
    static TelemetryIngest.Result store(Connection c, List<TelemetryWindow> windows, long receivedAt,
            Function<TelemetryWindow, String> lastTelemetry) throws SQLException {
        Set<String> ids = new TreeSet<>();
        windows.forEach(w -> ids.add(w.deviceId()));
        Set<String> known = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(LOCK_DEVICES)) {
            ps.setArray(1, c.createArrayOf("varchar", ids.toArray()));
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    known.add(r.getString(1));
                }
            }
        }
        // First occurrence per (device, message id) only: a batch may hold a window and its redelivery.
        Map<String, TelemetryWindow> distinct = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        List<TelemetryIngest.Committed> committed = new ArrayList<>(windows.size());
        for (TelemetryWindow w : windows) {
            if (!known.contains(w.deviceId())) {
                unknown.add(w.deviceId());
                continue;
            }
            committed.add(new TelemetryIngest.Committed(w.deviceId(), w.seq(), w.ackBase()));
            distinct.putIfAbsent(key(w.deviceId(), w.id()), w);
        }
        Set<String> inserted = distinct.isEmpty() ? Set.of() : insert(c, distinct.values(), receivedAt);
        int duplicates = committed.size() - inserted.size();

        // Replayed windows are old news from the offline buffer: stored, but not the device's "last" window.
        Map<String, TelemetryWindow> newest = new HashMap<>();
        for (TelemetryWindow w : distinct.values()) {
            if (!w.replayed() && inserted.contains(key(w.deviceId(), w.id()))) {
                newest.merge(w.deviceId(), w, (a, b) -> b.windowEnd() >= a.windowEnd() ? b : a);
            }
        }
        if (!known.isEmpty()) {
            Map<String, String> last = new TreeMap<>();
            for (String id : known) {
                TelemetryWindow w = newest.get(id);
                last.put(id, w == null ? null : lastTelemetry.apply(w));
            }
            try (PreparedStatement ps = c.prepareStatement(TOUCH_DEVICES)) {
                ps.setLong(1, receivedAt);
                ps.setArray(2, c.createArrayOf("varchar", last.keySet().toArray()));
                ps.setArray(3, c.createArrayOf("varchar", last.values().toArray()));
                ps.executeUpdate();
            }
        }
        return new TelemetryIngest.Result(inserted.size(), duplicates, unknown, committed);
    }

    private static Set<String> insert(Connection c, java.util.Collection<TelemetryWindow> windows, long receivedAt)
            throws SQLException {
        int n = windows.size();
        Object[][] cols = new Object[25][n];
        int i = 0;
        for (TelemetryWindow w : windows) {
            TelemetryWindowEntity e = TelemetryView.toEntity(w, receivedAt);
            Object[] row = {e.deviceId, e.messageId, e.seq, e.windowStart, e.windowEnd, e.modelName, e.modelVersion,
                    e.modelSha256, e.inferences, e.errors, e.latencyP50, e.latencyP95, e.latencyP99, e.latencyMax,
                    e.latencyMean, e.energyMj, e.drift, e.dropped, e.replayed, e.energySource, e.energyJoules, e.driftJs,
                    e.driftConfidenceShift, e.driftReference, e.driftDetail};
            for (int col = 0; col < row.length; col++) {
                cols[col][i] = row[col];
            }
            i++;
        }
        String[] types = {"varchar", "varchar", "int8", "int8", "int8", "varchar", "int8", "varchar", "int8", "int8",
                "float8", "float8", "float8", "float8", "float8", "float8", "float8", "int8", "bool", "varchar", "float8",
                "float8", "float8", "varchar", "varchar"};
        Set<String> inserted = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
            ps.setLong(1, receivedAt);
            List<Array> arrays = new ArrayList<>(types.length);
            for (int col = 0; col < types.length; col++) {
                Array a = c.createArrayOf(types[col], cols[col]);
                arrays.add(a);
                ps.setArray(col + 2, a);
            }
            try (ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    inserted.add(key(r.getString(1), r.getString(2)));
                }
            }
            for (Array a : arrays) {
                a.free();
            }
        }
        return inserted;
    }

    static String key(String deviceId, String messageId) {
        return deviceId + '\u0000' + messageId;
    }
}
