package io.edgefleet.agent.testing;

import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * Plays the server over MQTT: records what devices publish, publishes artifacts and commands.
 *
 * <p>Like the real server it outlives a dropped connection: its session (subscription and QoS 1 messages queued for
 * it) has an expiry and is resumed on the automatic reconnect, the subscription is made again if the broker lost the
 * session (a restarted broker), and {@link #publish} waits for the reconnect and sends again, within
 * {@link #PUBLISH_RETRY_MS}. A drop is printed with its cause and kept in {@link #drops()}.
 */
public final class ServerClient implements AutoCloseable {
    public record Received(String topic, byte[] payload, boolean retained, String contentType) {
    }

    /** How long {@link #publish} waits for a lost connection to come back before it gives up. */
    public static final long PUBLISH_RETRY_MS = 20_000;
    /** Seconds the broker keeps this client's session after a drop. */
    static final long SESSION_EXPIRY_SECONDS = 300;
    private static final String DEVICES = Topics.ROOT + "/devices/#";

    private final MqttClient client;
    private final JsonCodec codec = new JsonCodec();
    public final List<Received> received;
    private final List<String> drops = new CopyOnWriteArrayList<>();
    private final ExecutorService resubscriber = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "test-server-resubscribe");
        t.setDaemon(true);
        return t;
    });
    /** True from a SUBACK on the current connection until the connection is lost. */
    private volatile boolean subscribed;
    private volatile boolean closed;

    public ServerClient(String url) throws MqttException {
        this(url, new CopyOnWriteArrayList<>());
    }

    /** A client that appends to an earlier client's record (e.g. after a broker restart). */
    public ServerClient(String url, List<Received> received) throws MqttException {
        this.received = received;
        client = new MqttClient(url, "test-server-" + System.nanoTime(), new MemoryPersistence());
        client.setCallback(new Callback());
        MqttConnectionOptions o = new MqttConnectionOptions();
        // The client id is new, so there is no old session to resume on the first connect; asking for a persistent one
        // from the start matters to Moquette, which drops a session begun with clean start at its first disconnect
        // whatever its expiry (ServerClientTest).
        o.setCleanStart(false);
        o.setSessionExpiryInterval(SESSION_EXPIRY_SECONDS);
        o.setAutomaticReconnect(true);
        o.setAutomaticReconnectDelay(1, 2);
        connect(o);
        try {
            subscribe();
        } catch (MqttException e) {
            // Moquette closed the connection under the SUBSCRIBE ("SUBSCRIBE received on already closed connection"
            // in its log, then EOF here): the automatic reconnect subscribes again (Callback.connectComplete).
            if (!connectionGone(e)) {
                throw e;
            }
            awaitSubscribed(System.currentTimeMillis() + PUBLISH_RETRY_MS);
            if (!subscribed) {
                throw e;
            }
        }
    }

    /**
     * Connects, trying again when the broker drops the first attempt: an in-process broker started a moment ago
     * on a loaded machine sometimes closes a connection before its CONNACK ("Connection lost", EOF), which is the
     * harness's race, not what a test is about.
     */
    private void connect(MqttConnectionOptions o) throws MqttException {
        for (int attempt = 1; ; attempt++) {
            try {
                client.connect(o);
                return;
            } catch (MqttException e) {
                if (attempt == 5 || e.getReasonCode() != MqttClientException.REASON_CODE_CONNECTION_LOST
                        && e.getReasonCode() != MqttClientException.REASON_CODE_SERVER_CONNECT_ERROR) {
                    throw e;
                }
                try {
                    Thread.sleep(200L * attempt);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /**
     * Subscribes to everything devices publish. Retained messages come only with a new subscription (retain
     * handling 1): subscribing again on a resumed session does not record the retained ones twice.
     */
    public void subscribe() throws MqttException {
        MqttSubscription all = new MqttSubscription(DEVICES, 1);
        all.setRetainHandling(1);
        client.subscribe(new MqttSubscription[] {all});
        subscribed = true;
    }

    public String clientId() {
        return client.getClientId();
    }

    /** Each connection this client lost, with its cause, in order. */
    public List<String> drops() {
        return List.copyOf(drops);
    }

    private final class Callback implements MqttCallback {
        @Override
        public void messageArrived(String topic, MqttMessage msg) {
            received.add(new Received(topic, msg.getPayload(), msg.isRetained(),
                    msg.getProperties() == null ? null : msg.getProperties().getContentType()));
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            subscribed = false;
            if (closed) {
                return;
            }
            Throwable cause = response.getException();
            String what = Instant.now() + " " + client.getClientId() + " lost its connection: reason code "
                    + response.getReturnCode() + (response.getReasonString() == null ? "" : " " + response.getReasonString())
                    + (cause == null ? "" : ", " + cause + (cause.getCause() == null ? "" : " caused by " + cause.getCause()));
            drops.add(what);
            System.err.println("ServerClient: " + what);
        }

        @Override
        public void connectComplete(boolean reconnect, String serverUri) {
            if (reconnect && !closed) {
                // Not on the callback thread: a blocking subscribe there waits on the thread that delivers its SUBACK.
                resubscriber.execute(() -> {
                    try {
                        subscribe();
                    } catch (MqttException e) {
                        drops.add(Instant.now() + " re-subscribing after a reconnect failed: " + e);
                    }
                });
            }
        }

        @Override
        public void mqttErrorOccurred(MqttException e) {
            drops.add(Instant.now() + " " + e);
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    /**
     * Publishes at QoS 1 once connected and subscribed. When the connection is gone (before or while sending) it waits
     * for the automatic reconnect and the subscription, then sends again: at least once, as QoS 1 promises, within
     * {@link #PUBLISH_RETRY_MS}.
     */
    public void publish(String topic, byte[] payload, boolean retained) throws MqttException {
        long deadline = System.currentTimeMillis() + PUBLISH_RETRY_MS;
        while (true) {
            awaitSubscribed(deadline);
            try {
                client.publish(topic, new MqttMessage(payload, 1, retained, null));
                return;
            } catch (MqttException e) {
                if (!connectionGone(e) || closed || System.currentTimeMillis() > deadline) {
                    throw e;
                }
            }
        }
    }

    /** Until connected with the subscription in place (an answer to what is published next is heard) or the deadline. */
    private void awaitSubscribed(long deadline) throws MqttException {
        try {
            while (!(client.isConnected() && subscribed) && !closed && System.currentTimeMillis() <= deadline) {
                Thread.sleep(20);
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new MqttException(ie);
        }
    }

    private static boolean connectionGone(MqttException e) {
        int code = e.getReasonCode();
        return code == MqttClientException.REASON_CODE_CONNECTION_LOST
                || code == MqttClientException.REASON_CODE_CLIENT_NOT_CONNECTED
                || code == MqttClientException.REASON_CODE_CONNECT_IN_PROGRESS
                || code == MqttClientException.REASON_CODE_CLIENT_DISCONNECTING;
    }

    public void publishArtifact(Artifacts.Artifact a) throws MqttException {
        publish(a.manifestTopic(), a.manifestJson(), true);
        for (int i = 0; i < a.chunks().size(); i++) {
            publish(a.chunkTopic(i), a.chunks().get(i), true);
        }
    }

    public List<DeviceEvent> events(String deviceId) {
        return decoded(Topics.events(deviceId), DeviceEvent.class);
    }

    public List<TelemetryWindow> telemetry(String deviceId) {
        return decoded(Topics.telemetry(deviceId), TelemetryWindow.class);
    }

    public List<DeviceStatus> statuses(String deviceId) {
        return decoded(Topics.status(deviceId), DeviceStatus.class);
    }

    public DeviceStatus lastStatus(String deviceId) {
        List<DeviceStatus> s = statuses(deviceId);
        return s.isEmpty() ? null : s.get(s.size() - 1);
    }

    private <T extends Message> List<T> decoded(String topic, Class<T> type) {
        return received.stream().filter(r -> r.topic().equals(topic) && r.payload().length > 0)
                .map(r -> codec.decode(r.payload(), type)).toList();
    }

    public DeviceEvent awaitEvent(String deviceId, Predicate<DeviceEvent> p, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            for (DeviceEvent e : events(deviceId)) {
                if (p.test(e)) {
                    return e;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no matching event within " + timeoutMs + " ms; got "
                + events(deviceId).stream().map(e -> e.type() + "/" + e.reason()).toList());
    }

    public static void await(java.util.function.BooleanSupplier cond, long timeoutMs, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        closed = true;
        resubscriber.shutdownNow();
        try {
            if (client.isConnected()) {
                client.disconnect();
            }
        } catch (MqttException e) {
            // broker already gone
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            // nothing left to release
        }
    }
}
