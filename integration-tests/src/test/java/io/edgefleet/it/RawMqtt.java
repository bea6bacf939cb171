package io.edgefleet.it;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * A bare Paho v5 client logged in with someone's real credentials: plays a misbehaving device or
 * the server in the bad-input scenarios, and pushes telemetry in the ingest benchmark. Closed after use.
 */
public final class RawMqtt implements AutoCloseable {
    public record Received(String topic, byte[] payload, boolean retained) {
        public String text() {
            return new String(payload, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private final MqttAsyncClient client;
    private final LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private volatile MqttDisconnectResponse disconnect;

    private RawMqtt(MqttAsyncClient client) {
        this.client = client;
    }

    /** Connects with the user name as client id, as a device must (the brokers refuse or replace any other). */
    public static RawMqtt connect(String url, String username, String password) throws MqttException {
        return connect(url, username, password,
                username != null ? username : "it-raw-" + MosquittoBroker.randomSecret().substring(0, 12));
    }

    public static RawMqtt connect(String url, String username, String password, String clientId) throws MqttException {
        MqttAsyncClient c = new MqttAsyncClient(url, clientId, new MemoryPersistence());
        RawMqtt raw = new RawMqtt(c);
        c.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                raw.disconnect = response;
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                raw.received.add(new Received(topic, message.getPayload(), message.isRetained()));
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
            }
        });
        MqttConnectionOptions o = new MqttConnectionOptions();
        if (username != null) {
            o.setUserName(username);
        }
        if (password != null) {
            o.setPassword(password.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        o.setCleanStart(true);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(10);
        try {
            c.connect(o).waitForCompletion(15_000);
        } catch (MqttException e) {
            closeQuietly(c);
            throw e;
        }
        return raw;
    }

    /** Subscribes and returns the granted reason code (0..2 granted QoS, 0x80 and above refused). */
    public int subscribe(String filter, int qos) throws MqttException {
        IMqttToken t = client.subscribe(new MqttSubscription(filter, qos));
        t.waitForCompletion(10_000);
        int[] codes = t.getReasonCodes();
        return codes == null || codes.length == 0 ? -1 : codes[0];
    }

    /** Publishes and returns the PUBACK reason code for QoS 1 (0 = accepted, 0x87 = not authorized). */
    public int publish(String topic, byte[] payload, int qos, boolean retained) throws MqttException {
        MqttMessage m = new MqttMessage(payload);
        m.setQos(qos);
        m.setRetained(retained);
        IMqttToken t = client.publish(topic, m);
        t.waitForCompletion(10_000);
        int[] codes = t.getReasonCodes();
        return codes == null || codes.length == 0 ? 0 : codes[0];
    }

    /** PUBACK reason codes below 0x80 are successes (0x10 = accepted, but nobody subscribed). */
    public static boolean accepted(int reasonCode) {
        return reasonCode >= 0 && reasonCode < 0x80;
    }

    /** Fire-and-forget publish for the ingest benchmark: Paho's in-flight window provides the back-pressure. */
    public IMqttToken publishAsync(String topic, byte[] payload, int qos) throws MqttException {
        MqttMessage m = new MqttMessage(payload);
        m.setQos(qos);
        return client.publish(topic, m);
    }

    public Optional<Received> await(Predicate<Received> match, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return Optional.empty();
            }
            Received r = received.poll(left, TimeUnit.NANOSECONDS);
            if (r == null) {
                return Optional.empty();
            }
            if (match.test(r)) {
                return Optional.of(r);
            }
        }
    }

    public List<Received> drain() {
        List<Received> out = new java.util.ArrayList<>();
        received.drainTo(out);
        return out;
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    public Optional<MqttDisconnectResponse> disconnectReason() {
        return Optional.ofNullable(disconnect);
    }

    public MqttAsyncClient client() {
        return client;
    }

    @Override
    public void close() {
        closeQuietly(client);
    }

    private static void closeQuietly(MqttAsyncClient c) {
        try {
            if (c.isConnected()) {
                c.disconnect(2000).waitForCompletion(3000);
            }
        } catch (MqttException ignored) {
            // Closing anyway.
        }
        try {
            c.close(true);
        } catch (MqttException ignored) {
            // Nothing left to release.
        }
    }
}
