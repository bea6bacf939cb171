package io.edgefleet.agent.testing;

import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;

/** Plays the server over MQTT: records what devices publish, publishes artifacts and commands. */
public final class ServerClient implements AutoCloseable {
    public record Received(String topic, byte[] payload, boolean retained, String contentType) {
    }

    private final MqttClient client;
    private final JsonCodec codec = new JsonCodec();
    public final List<Received> received;

    public ServerClient(String url) throws MqttException {
        this(url, new CopyOnWriteArrayList<>());
    }

    /** A client that appends to an earlier client's record (e.g. after a broker restart). */
    public ServerClient(String url, List<Received> received) throws MqttException {
        this.received = received;
        client = new MqttClient(url, "test-server-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setAutomaticReconnect(true);
        o.setAutomaticReconnectDelay(1, 2);
        connect(o);
        subscribe();
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

    public void subscribe() throws MqttException {
        client.subscribe(new MqttSubscription[] {new MqttSubscription(Topics.ROOT + "/devices/#", 1)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {(topic, msg) -> received.add(new Received(topic,
                        msg.getPayload(), msg.isRetained(),
                        msg.getProperties() == null ? null : msg.getProperties().getContentType()))});
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    public void publish(String topic, byte[] payload, boolean retained) throws MqttException {
        client.publish(topic, new MqttMessage(payload, 1, retained, null));
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
