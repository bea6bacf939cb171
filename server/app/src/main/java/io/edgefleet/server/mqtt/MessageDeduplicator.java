package io.edgefleet.server.mqtt;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers the most recent message ids (bounded, least recently seen evicted first). QoS 1 means
 * "at least once", so a redelivered status, event or telemetry window is recognised and dropped.
 */
public final class MessageDeduplicator {
    private final Map<String, Boolean> seen;

    public MessageDeduplicator(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1");
        }
        this.seen = new LinkedHashMap<>(Math.min(capacity, 1 << 16), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** True the first time a (device, message id) pair is seen, false for a repeat. */
    public synchronized boolean firstTime(String deviceId, String messageId) {
        return seen.put(deviceId + '\u0000' + messageId, Boolean.TRUE) == null;
    }

    /** Forgets a message, so that a redelivery is processed again (used when processing failed). */
    public synchronized void forget(String deviceId, String messageId) {
        seen.remove(deviceId + '\u0000' + messageId);
    }

    public synchronized int size() {
        return seen.size();
    }
}
