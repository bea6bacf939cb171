package io.edgefleet.server.device;

import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ModelStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

/**
 * Applies a device's retained status message: online flag, last seen, agent version, active and standby model,
 * and every model the device holds (an older agent's status without {@code models} counts as its one model).
 */
@ApplicationScoped
public class DeviceStatusIngest {

    public enum Outcome { UNKNOWN_DEVICE, STALE, APPLIED, CAME_ONLINE }

    @Inject
    Session session;

    public Outcome apply(DeviceStatus s, long receivedAt) {
        return apply(s, receivedAt, false);
    }

    /**
     * @param retained the broker's retained copy, read when this server (re)subscribed: not a sign of life
     *                 at {@code receivedAt}, only at the status's own (clamped) timestamp
     */
    @Transactional
    public Outcome apply(DeviceStatus s, long receivedAt, boolean retained) {
        DeviceEntity d = session.find(DeviceEntity.class, s.deviceId());
        if (d == null) {
            return Outcome.UNKNOWN_DEVICE;
        }
        // Status is retained and may be redelivered late (reconnects, session resume): never go back in time,
        // but recognise the will of the current connection (see StatusRules).
        if (StatusRules.judge(new StatusRules.Current(d.online, d.swept, d.statusTs, d.connectionId), s, receivedAt,
                retained)
                == StatusRules.Verdict.STALE) {
            return Outcome.STALE;
        }
        boolean wasOnline = d.online;
        boolean online = s.state() == DeviceStatus.State.ONLINE;
        d.online = online;
        d.swept = false;
        long ts = StatusRules.effectiveTs(s, receivedAt);
        d.statusTs = d.statusTs == null ? ts : Math.max(d.statusTs, ts);
        if (online) {
            d.connectionId = s.connection();
        }
        if (online) {
            // An OFFLINE status is usually the broker publishing the device's Last Will: not a sign of life.
            long seen = retained ? ts : receivedAt;
            d.lastSeen = d.lastSeen == null ? seen : Math.max(d.lastSeen, seen);
        }
        if (s.agentVersion() != null) {
            d.agentVersion = s.agentVersion().length() > 64 ? s.agentVersion().substring(0, 64) : s.agentVersion();
        }
        ModelRef a = s.active();
        d.activeModel = a == null ? null : a.model();
        d.activeVersion = a == null ? null : a.version();
        d.activeSha256 = a == null ? null : a.sha256();
        ModelRef b = s.standby();
        d.standbyModel = b == null ? null : b.model();
        d.standbyVersion = b == null ? null : b.version();
        d.standbySha256 = b == null ? null : b.sha256();
        if (online) {
            // The will names no models (they may change while a connection lasts): the last ONLINE status stays the truth.
            replaceModels(d, s);
        }
        return online && !wasOnline ? Outcome.CAME_ONLINE : Outcome.APPLIED;
    }

    private static void replaceModels(DeviceEntity d, DeviceStatus s) {
        java.util.Map<String, DeviceModel> next = new java.util.TreeMap<>();
        if (s.models() != null) {
            for (ModelStatus m : s.models()) {
                next.put(m.name(), row(m.active(), m.standby(), m.state().name()));
            }
        } else if (s.active() != null) {
            next.put(s.active().model(), row(s.active(), s.standby(), null));
        }
        if (!next.equals(d.models)) {
            d.models.clear();
            d.models.putAll(next);
        }
    }

    private static DeviceModel row(ModelRef active, ModelRef standby, String state) {
        DeviceModel m = new DeviceModel();
        m.activeModel = active == null ? null : active.model();
        m.activeVersion = active == null ? null : active.version();
        m.activeSha256 = active == null ? null : active.sha256();
        m.standbyModel = standby == null ? null : standby.model();
        m.standbyVersion = standby == null ? null : standby.version();
        m.standbySha256 = standby == null ? null : standby.sha256();
        m.updateState = state; // null: an older agent, which does not report it
        return m;
    }
}
