package io.edgefleet.server.device;

import io.edgefleet.protocol.DeviceStatus;

/**
 * Decides whether a device status message changes what the server believes, in plain Java.
 *
 * <ul>
 *   <li>A status's timestamp is clamped to the time it was received: a device clock running ahead must not
 *       date a status into the future, where it would make every later status look stale.</li>
 *   <li>An OFFLINE status naming the connection the device last came online on is that connection's Last Will
 *       (built, and timestamped, before its ONLINE status): it applies whatever its timestamp.</li>
 *   <li>An OFFLINE status naming another connection belongs to a connection that has since been replaced
 *       (the broker publishes a will late, or a retained one is redelivered): stale.</li>
 *   <li>An ONLINE status of the connection whose will already took the device offline is a late redelivery of
 *       a connection that has ended: stale. (Not when the sweep took it offline: the connection may be alive.)</li>
 *   <li>A <em>retained</em> copy (what the broker kept and hands to a new subscription; the server reads
 *       them on every connect, see {@code MqttGateway}) applies only when it is newer than the status already
 *       applied: the same status again tells nothing, and a copy is no sign of life (a dead device's last
 *       ONLINE stays retained until its will replaces it).</li>
 *   <li>Everything else applies only when it is not older than the status already applied.</li>
 * </ul>
 */
public final class StatusRules {

    public enum Verdict { APPLY, STALE }

    /** What the server holds for the device: timestamp and connection of the last status applied (nullable). */
    public record Current(boolean online, boolean swept, Long statusTs, String connectionId) {
    }

    private StatusRules() {
    }

    /** The timestamp the server records for a status: the sender's, but never later than its arrival. */
    public static long effectiveTs(DeviceStatus s, long receivedAt) {
        return Math.min(s.ts(), receivedAt);
    }

    public static Verdict judge(Current current, DeviceStatus s, long receivedAt) {
        return judge(current, s, receivedAt, false);
    }

    public static Verdict judge(Current current, DeviceStatus s, long receivedAt, boolean retained) {
        if (s.state() == DeviceStatus.State.OFFLINE && s.connection() != null && current.connectionId() != null) {
            if (!s.connection().equals(current.connectionId())) {
                return Verdict.STALE;
            }
            // the will of the current connection; retained, it is news only while the device is shown online
            return retained && !current.online() ? Verdict.STALE : Verdict.APPLY;
        }
        if (retained && current.statusTs() != null && effectiveTs(s, receivedAt) <= current.statusTs()) {
            return Verdict.STALE;
        }
        if (s.state() == DeviceStatus.State.ONLINE && !current.online() && !current.swept() && s.connection() != null
                && s.connection().equals(current.connectionId())) {
            return Verdict.STALE;
        }
        long ts = effectiveTs(s, receivedAt);
        if (current.statusTs() != null && ts < current.statusTs()) {
            return Verdict.STALE;
        }
        return Verdict.APPLY;
    }
}
