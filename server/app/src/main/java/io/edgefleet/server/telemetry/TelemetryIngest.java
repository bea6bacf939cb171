package io.edgefleet.server.telemetry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocol.TelemetryWindow;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hibernate.Session;

/** Stores telemetry windows in batches and keeps each device's last-seen time and newest window current. */
@ApplicationScoped
public class TelemetryIngest {

    public record Result(int stored, List<String> unknownDevices) {
    }

    @Inject
    Session session;

    @Inject
    ObjectMapper json;

    @Transactional
    public Result store(List<TelemetryWindow> windows, long receivedAt) {
        Set<String> ids = new LinkedHashSet<>();
        windows.forEach(w -> ids.add(w.deviceId()));
        Set<String> known = new HashSet<>(session.createSelectionQuery(
                "select d.id from DeviceEntity d where d.id in :ids", String.class)
                .setParameter("ids", ids).getResultList());
        List<String> unknown = new ArrayList<>();
        Map<String, TelemetryWindow> newest = new HashMap<>();
        int stored = 0;
        for (TelemetryWindow w : windows) {
            if (!known.contains(w.deviceId())) {
                unknown.add(w.deviceId());
                continue;
            }
            session.persist(TelemetryView.toEntity(w, receivedAt));
            stored++;
            // Replayed windows are old news from the offline buffer: stored, but not the device's "last" window.
            if (!w.replayed()) {
                newest.merge(w.deviceId(), w, (a, b) -> b.windowEnd() >= a.windowEnd() ? b : a);
            }
        }
        for (String id : known) {
            TelemetryWindow w = newest.get(id);
            if (w == null) {
                session.createMutationQuery("update DeviceEntity d set d.lastSeen = :now where d.id = :id")
                        .setParameter("now", receivedAt).setParameter("id", id).executeUpdate();
            } else {
                session.createMutationQuery(
                                "update DeviceEntity d set d.lastSeen = :now, d.lastTelemetry = :last where d.id = :id")
                        .setParameter("now", receivedAt).setParameter("last", toJson(TelemetryView.of(w, receivedAt)))
                        .setParameter("id", id).executeUpdate();
            }
        }
        return new Result(stored, unknown);
    }

    private String toJson(TelemetryView v) {
        try {
            return json.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
