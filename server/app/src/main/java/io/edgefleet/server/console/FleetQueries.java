package io.edgefleet.server.console;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.hibernate.Session;

/** The fleet page's aggregates, counted by the database (one query each, whatever the fleet's size). */
@ApplicationScoped
public class FleetQueries {

    /** Devices of one class: how many are online and offline, and which model versions they run. */
    public record ClassCounts(String classId, long online, long offline, List<Running> running) {
        public long total() {
            return online + offline;
        }
    }

    /** {@code devices} devices of a class have {@code model} v{@code version} active. */
    public record Running(String model, long version, long devices) {
    }

    @Inject
    Session session;

    @Transactional
    public Map<String, ClassCounts> countsByClass() {
        Map<String, long[]> online = new TreeMap<>();
        for (Object[] row : session.createSelectionQuery(
                "select d.classId, d.online, count(d) from DeviceEntity d group by d.classId, d.online", Object[].class)
                .getResultList()) {
            long[] c = online.computeIfAbsent((String) row[0], k -> new long[2]);
            c[Boolean.TRUE.equals(row[1]) ? 0 : 1] += ((Number) row[2]).longValue();
        }
        Map<String, List<Running>> running = new TreeMap<>();
        for (Object[] row : session.createSelectionQuery(
                "select d.classId, d.activeModel, d.activeVersion, count(d) from DeviceEntity d"
                        + " where d.activeModel is not null group by d.classId, d.activeModel, d.activeVersion"
                        + " order by d.classId, d.activeModel, d.activeVersion", Object[].class).getResultList()) {
            running.computeIfAbsent((String) row[0], k -> new ArrayList<>()).add(new Running((String) row[1],
                    row[2] == null ? 0 : ((Number) row[2]).longValue(), ((Number) row[3]).longValue()));
        }
        Map<String, ClassCounts> out = new TreeMap<>();
        online.forEach((cls, c) -> out.put(cls, new ClassCounts(cls, c[0], c[1], running.getOrDefault(cls, List.of()))));
        return out;
    }
}
