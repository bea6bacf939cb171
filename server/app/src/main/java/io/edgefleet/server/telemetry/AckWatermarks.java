package io.edgefleet.server.telemetry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Per device, the highest telemetry seq up to which every window is committed (the cumulative
 * acknowledgement the server publishes back), in plain Java.
 *
 * <p>The agent says in each window ({@code ackBase}) the lowest seq it still holds unconfirmed:
 * everything below is confirmed or was dropped by the agent and counted, so the watermark starts
 * at {@code ackBase - 1} and never waits for a window that no longer exists. Committed seqs above
 * a gap are remembered until the gap fills. A window from an agent without {@code ackBase} moves
 * the watermark to its own seq (such agents do not read acks; the value is informative only).
 * With several replicas each sees only some of a device's windows; {@link #gaps()} names the
 * devices whose gap may have been filled by another replica, for a database look-up.
 */
public final class AckWatermarks {
    /** Seqs kept above a gap per device; beyond it the oldest are forgotten (the database still has them). */
    static final int MAX_ABOVE = 4096;

    private static final class State {
        long acked = -1;
        final TreeSet<Long> above = new TreeSet<>();
        boolean dirty;
    }

    /** A device whose committed seqs stop at a gap: {@code acked} and the highest seq known above it. */
    public record Gap(String deviceId, long acked, long highest) {
    }

    private final Map<String, State> devices = new HashMap<>();

    /** A window of the device is committed (stored now, or found already stored). */
    public synchronized void committed(String deviceId, long seq, Long ackBase) {
        State st = devices.computeIfAbsent(deviceId, k -> new State());
        if (ackBase == null) {
            st.acked = Math.max(st.acked, seq);
        } else {
            st.acked = Math.max(st.acked, ackBase - 1);
            if (seq > st.acked) {
                st.above.add(seq);
                if (st.above.size() > MAX_ABOVE) {
                    st.above.pollFirst();
                }
            }
        }
        advance(st);
        st.dirty = true;
    }

    /** Seqs of the device found committed in the database above its watermark (another replica stored them). */
    public synchronized void found(String deviceId, List<Long> seqs) {
        State st = devices.get(deviceId);
        if (st == null) {
            return;
        }
        long before = st.acked;
        for (long s : seqs) {
            if (s > st.acked) {
                st.above.add(s);
            }
        }
        advance(st);
        if (st.acked != before) {
            st.dirty = true;
        }
    }

    private static void advance(State st) {
        st.above.headSet(st.acked, true).clear();
        while (!st.above.isEmpty() && st.above.first() == st.acked + 1) {
            st.acked = st.above.pollFirst();
        }
    }

    /** Devices with something new to acknowledge, and their watermark; clears the flags. */
    public synchronized Map<String, Long> takeDirty() {
        Map<String, Long> out = new LinkedHashMap<>();
        devices.forEach((id, st) -> {
            if (st.dirty) {
                st.dirty = false;
                if (st.acked >= 0) {
                    out.put(id, st.acked);
                }
            }
        });
        return out;
    }

    /** The acknowledgement taken for the device was not sent (the MQTT client refused it): due again next time. */
    public synchronized void notSent(String deviceId) {
        State st = devices.get(deviceId);
        if (st != null && st.acked >= 0) {
            st.dirty = true;
        }
    }

    /** Devices whose committed seqs stop at a gap (at most {@code max}). */
    public synchronized List<Gap> gaps(int max) {
        List<Gap> out = new ArrayList<>();
        for (Map.Entry<String, State> e : devices.entrySet()) {
            if (out.size() >= max) {
                break;
            }
            State st = e.getValue();
            if (!st.above.isEmpty()) {
                out.add(new Gap(e.getKey(), st.acked, st.above.last()));
            }
        }
        return out;
    }

    /** The device's watermark, -1 when unknown. */
    public synchronized long acked(String deviceId) {
        State st = devices.get(deviceId);
        return st == null ? -1 : st.acked;
    }
}
