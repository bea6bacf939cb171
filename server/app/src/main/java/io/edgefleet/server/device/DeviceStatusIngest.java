package io.edgefleet.server.device;

import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.ModelRef;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

/** Applies a device's retained status message: online flag, last seen, agent version, active and standby model. */
@ApplicationScoped
public class DeviceStatusIngest {

    public enum Outcome { UNKNOWN_DEVICE, STALE, APPLIED, CAME_ONLINE }

    @Inject
    Session session;

    @Transactional
    public Outcome apply(DeviceStatus s, long receivedAt) {
        DeviceEntity d = session.find(DeviceEntity.class, s.deviceId());
        if (d == null) {
            return Outcome.UNKNOWN_DEVICE;
        }
        // Status is retained and may be redelivered late (reconnects, session resume): never go back in time,
        // but recognise the will of the current connection (see StatusRules).
        if (StatusRules.judge(new StatusRules.Current(d.online, d.swept, d.statusTs, d.connectionId), s, receivedAt)
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
            d.lastSeen = d.lastSeen == null ? receivedAt : Math.max(d.lastSeen, receivedAt);
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
        return online && !wasOnline ? Outcome.CAME_ONLINE : Outcome.APPLIED;
    }
}
