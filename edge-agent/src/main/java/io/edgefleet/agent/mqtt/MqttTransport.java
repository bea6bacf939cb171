package io.edgefleet.agent.mqtt;

import java.util.concurrent.CompletableFuture;

/**
 * The MQTT 5 client underneath one {@link MqttSession}: connect with a will, QoS 1 publish and
 * subscribe, and the two ways a connection ends. Nothing here blocks; every operation answers with a
 * future, so one scheduler thread can drive the connects of thousands of sessions. The session keeps
 * everything the agent relies on above this line (subscriptions across reconnects, the offline outbox,
 * the jittered {@link Backoff}, the per-connection will); an implementation only speaks MQTT.
 *
 * <p>Two implementations: {@link PahoTransport} (Eclipse Paho v5; the default for a device: one client,
 * a handful of threads of its own) and {@link HiveMqTransport} (HiveMQ MQTT client on a Netty event loop
 * shared by every client in the JVM; the simulator's choice for thousands of agents).
 */
public interface MqttTransport {

    /** Which implementation; {@code mqttClient} in the agent's configuration. */
    enum Kind {
        PAHO, HIVEMQ;

        /** {@code paho} or {@code hivemq}, any case. */
        public static Kind parse(String s) {
            if (s == null) {
                throw new IllegalArgumentException("mqttClient: must be 'paho' or 'hivemq'");
            }
            return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "paho" -> PAHO;
                case "hivemq" -> HIVEMQ;
                default -> throw new IllegalArgumentException("mqttClient: '" + s + "' must be 'paho' or 'hivemq'");
            };
        }

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What arrives from the client; called on the client's own thread, so it must hand work off quickly. */
    interface Listener {
        void onMessage(String topic, byte[] payload);

        /** A connection (the first or a later one) is up. */
        void onConnected();

        /** An established connection ended without {@link #disconnect} or {@link #kill} (not a failed attempt). */
        void onConnectionLost(String reason);
    }

    /** The retained QoS 1 will of one connection, JSON. */
    record Will(String topic, byte[] payload) {
    }

    /** What one CONNECT carries: clean start is always off (queued commands survive a gap). */
    record ConnectOptions(String username, byte[] password, long sessionExpirySeconds, int keepAliveSeconds,
                          int connectTimeoutSeconds, Will will) {
    }

    /** An MQTT answer that refused an operation: CONNACK, PUBACK or SUBACK reason code 0x80 or above. */
    final class RefusedException extends RuntimeException {
        private final int reasonCode;

        public RefusedException(int reasonCode, String message) {
            super(message + " (reason code 0x" + Integer.toHexString(reasonCode) + ")");
            this.reasonCode = reasonCode;
        }

        public int reasonCode() {
            return reasonCode;
        }
    }

    /** Creates one client for one session; the factory holds what clients of one JVM share. */
    interface Factory {
        MqttTransport create(String url, String clientId, MqttSession.Settings settings, Listener listener);

        Kind kind();
    }

    /** Connects (clean start off); completes when the broker accepted, exceptionally otherwise. */
    CompletableFuture<Void> connect(ConnectOptions options);

    boolean isConnected();

    /** QoS 1 publish; completes at the broker's PUBACK, exceptionally when it was refused or the connection went. */
    CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained, String contentType);

    /** QoS 1 subscription; completes with the SUBACK reason code (0x80 and above: refused, e.g. 0x87 by the ACL). */
    /**
     * One SUBSCRIBE for all the filters, QoS 1. {@code resumed}: retain handling 1, the broker sends a topic's
     * retained message only when the subscription is new, so the re-subscribe after a reconnect that resumed the
     * persistent session does not make the broker send every retained artifact chunk again; otherwise retain
     * handling 0 (always send it), because a broker may judge "new" across clients (the embedded Moquette did, and
     * a second device's chunk window then received nothing). Completes with one reason code per filter (below
     * 0x80: granted).
     */
    CompletableFuture<int[]> subscribe(java.util.List<String> filters, boolean resumed);

    /** One UNSUBSCRIBE for all the filters. */
    CompletableFuture<Void> unsubscribe(java.util.List<String> filters);

    /** A normal DISCONNECT (the broker discards the will); completes when the connection is closed. */
    CompletableFuture<Void> disconnect();

    /** Drops the TCP connection without a DISCONNECT, as a power cut would: the broker publishes the will. */
    void kill();

    /** Releases the client's resources; the transport is not used again. */
    void close();

    /** Where a failure came from, for a log line: the reason code for an MQTT refusal, else the message. */
    static String describe(Throwable t) {
        Throwable c = t;
        while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        return c.getMessage() != null ? c.getMessage() : c.toString();
    }
}
