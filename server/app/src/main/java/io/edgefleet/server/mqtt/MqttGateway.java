package io.edgefleet.server.mqtt;

import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.security.Secrets;
import io.edgefleet.server.security.SigningKeys;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.jboss.logging.Logger;

/**
 * The server's one MQTT connection (Paho v5). Clean start is off and the client id is stable per
 * server instance, so the broker keeps the session (subscriptions, queued QoS 1 messages) across a
 * server restart. Inbound messages are handed straight to the {@link InboundDispatcher}; nothing
 * slow runs on Paho's callback thread.
 *
 * <p>Acknowledgements are manual: a device message is PUBACKed only once the dispatcher reports
 * that what it carried is committed (or judged: malformed, unknown device, duplicate). A message
 * not acknowledged before the connection drops is redelivered by the broker on the next one; an
 * acknowledgement for a message of an earlier connection is never sent on a later one (packet ids
 * are per connection). The device-topic subscriptions are renewed on every connect, because a
 * broker may not restore shared subscriptions with the session (Mosquitto does not).
 *
 * <p>A shared subscription receives no retained messages (MQTT 5, 4.8.2), so a status a device published
 * while no replica was subscribed (the server down, or a broker restarted without its shared
 * subscriptions) would never reach the server: the device reconnected and said ONLINE, and the server
 * still shows it offline. So on every connect the server also subscribes once to a plain status
 * filter, applies the retained statuses the broker hands to that new subscription (judged like any
 * status: only what is newer than the database's counts), and unsubscribes once they stop coming
 * ({@link #RETAINED_QUIET_MS} without one while the broker was not held back by the server's backlog). Every replica does this on its own connect; it is idempotent, and
 * costs one small message per device per (re)connect of a replica, not per device connect.
 */
@ApplicationScoped
public class MqttGateway implements MqttCallback {
    private static final Logger LOG = Logger.getLogger(MqttGateway.class);
    private static final long SESSION_EXPIRY_SECONDS = 7 * 24 * 3600L;
    private static final long PUBLISH_TIMEOUT_MS = 30_000;
    /** Outstanding QoS 1 publishes while streaming artifact chunks; below any sane broker receive-maximum. */
    private static final int PUBLISH_WINDOW = 16;
    private static final long DRAIN_TIMEOUT_MS = 5_000;
    /** The retained statuses are read once no retained one arrived for this long after the SUBACK. */
    static final long RETAINED_QUIET_MS = 2_000;
    /** Upper bound of one retained read (a huge fleet on a slow link still ends it). */
    private static final long RETAINED_MAX_MS = 300_000;

    @Inject
    EdgefleetConfig config;

    @Inject
    BrokerInfo broker;

    @Inject
    io.edgefleet.server.config.InstanceId instanceId;

    @Inject
    InboundDispatcher dispatcher;

    @Inject
    Event<BrokerConnected> connectedEvent;

    @Inject
    SigningKeys signingKeys;

    private final JsonCodec codec = new JsonCodec();
    private volatile MqttAsyncClient client;
    private volatile boolean stopping;
    private volatile long connectedSince;
    /** Incremented on every connect: acknowledgements carry the connection they belong to. */
    private final java.util.concurrent.atomic.AtomicLong connection = new java.util.concurrent.atomic.AtomicLong();
    private ScheduledExecutorService retry;
    /** When the last retained device message arrived (epoch ms), and how many arrived since the last connect. */
    private volatile long lastRetainedAt;
    private final java.util.concurrent.atomic.AtomicLong retainedRead = new java.util.concurrent.atomic.AtomicLong();

    void onStart(@Observes @Priority(200) StartupEvent event) {
        start();
    }

    void onStop(@Observes @Priority(100) ShutdownEvent event) {
        stop();
    }

    public synchronized void start() {
        if (client != null) {
            return;
        }
        stopping = false;
        keepAliveSeconds(config.mqtt().keepAlive()); // a bad value stops the start here, with its reason
        String url = broker.connectUrl();
        try {
            client = new MqttAsyncClient(url, clientId(), new MemoryPersistence());
        } catch (MqttException e) {
            throw new IllegalStateException("invalid MQTT URL '" + url + "': " + e.getMessage(), e);
        }
        client.setCallback(this);
        client.setManualAcks(true);
        retry = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "edgefleet-mqtt-connect");
            t.setDaemon(true);
            return t;
        });
        // First attempt in line, so an embedded setup is connected before the HTTP API serves requests;
        // an external broker that is down only delays the gateway, it does not stop the server.
        if (!tryConnect(10_000)) {
            scheduleRetry(2);
        }
    }

    public synchronized void stop() {
        stopping = true;
        if (retry != null) {
            retry.shutdownNow();
        }
        // Commit and acknowledge what is queued (bounded); the rest stays unacknowledged for redelivery.
        dispatcher.drain(DRAIN_TIMEOUT_MS);
        MqttAsyncClient c = client;
        client = null;
        if (c != null) {
            if (config.mqtt().sharedSubscriptions() && config.mqtt().leaveSharedSubscriptionsOnStop() && c.isConnected()) {
                try {
                    c.unsubscribe(subscriptionFilters().toArray(String[]::new)).waitForCompletion(2_000);
                    LOG.info("left the shared device subscriptions: the other replicas take the whole load");
                } catch (MqttException e) {
                    LOG.warnf("could not leave the shared subscriptions: %s", e.getMessage());
                }
            }
            try {
                if (c.isConnected()) {
                    c.disconnect(2_000).waitForCompletion(3_000);
                }
            } catch (MqttException e) {
                LOG.debugf("disconnect: %s", e.getMessage());
            }
            try {
                c.close(true);
            } catch (MqttException e) {
                LOG.debugf("close: %s", e.getMessage());
            }
        }
    }

    /** Since when the gateway has been connected without interruption (epoch ms), 0 while it is not. */
    public long connectedSince() {
        return isConnected() ? connectedSince : 0;
    }

    public boolean isConnected() {
        MqttAsyncClient c = client;
        return c != null && c.isConnected();
    }

    private boolean tryConnect(long timeoutMs) {
        MqttAsyncClient c = client;
        if (c == null || stopping) {
            return true;
        }
        try {
            c.connect(options()).waitForCompletion(timeoutMs);
            return true;
        } catch (MqttException e) {
            LOG.warnf("Cannot connect to the MQTT broker at %s: %s (reason %d); retrying", broker.connectUrl(),
                    e.getMessage(), e.getReasonCode());
            return false;
        }
    }

    private void scheduleRetry(long delaySeconds) {
        retry.schedule(() -> {
            if (!stopping && !isConnected() && !tryConnect(10_000)) {
                scheduleRetry(Math.min(delaySeconds * 2, 30));
            }
        }, delaySeconds, TimeUnit.SECONDS);
    }

    MqttConnectionOptions options() {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(SESSION_EXPIRY_SECONDS);
        o.setAutomaticReconnect(true);
        o.setAutomaticReconnectDelay(1, 30);
        o.setKeepAliveInterval(keepAliveSeconds(config.mqtt().keepAlive()));
        o.setConnectionTimeout(10);
        o.setReceiveMaximum(Math.max(1, Math.min(65_535, config.mqtt().receiveMaximum())));
        String user = broker.serverUsername();
        if (user != null && !user.isBlank()) {
            o.setUserName(user);
            String pass = broker.serverPassword();
            if (pass != null) {
                o.setPassword(pass.getBytes(StandardCharsets.UTF_8));
            }
        }
        return o;
    }

    /**
     * {@code edgefleet.mqtt.keep-alive} as MQTT's keep-alive: whole seconds, 1 to 65535 (the field is 16 bits; 0
     * would turn the check off, so a dead broker link would never be noticed).
     */
    static int keepAliveSeconds(java.time.Duration keepAlive) {
        if (keepAlive == null || keepAlive.isNegative() || keepAlive.toNanos() % 1_000_000_000L != 0
                || keepAlive.getSeconds() < 1 || keepAlive.getSeconds() > 65_535) {
            throw new IllegalArgumentException("edgefleet.mqtt.keep-alive must be whole seconds from 1s to 65535s, got "
                    + keepAlive);
        }
        return (int) keepAlive.getSeconds();
    }

    /** Stable per data directory unless configured, so clean-start=false resumes the same broker session. */
    private String clientId() {
        return config.mqtt().clientId().map(String::trim).filter(s -> !s.isEmpty())
                .orElseGet(() -> "edgefleet-server-" + instanceId.get());
    }

    /** The device-topic filters the server subscribes to, shared or not. */
    public List<String> subscriptionFilters() {
        return java.util.Arrays.stream(IngestStats.INBOUND)
                .map(Topics::allDevices)
                .map(f -> config.mqtt().sharedSubscriptions() ? Topics.shared(f) : f)
                .toList();
    }

    @Override
    public void connectComplete(boolean reconnect, String serverURI) {
        connection.incrementAndGet();
        connectedSince = System.currentTimeMillis();
        LOG.infof("MQTT gateway %s to %s", reconnect ? "reconnected" : "connected", serverURI);
        MqttAsyncClient c = client;
        if (c == null) {
            return;
        }
        List<String> filters = subscriptionFilters();
        MqttSubscription[] subs = filters.stream().map(f -> new MqttSubscription(f, 1)).toArray(MqttSubscription[]::new);
        try {
            // Asynchronous: waiting here would block Paho's callback thread, which delivers the SUBACK.
            c.subscribe(subs, null, new org.eclipse.paho.mqttv5.client.MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    int[] codes = token.getReasonCodes();
                    for (int i = 0; codes != null && i < codes.length && i < filters.size(); i++) {
                        if (codes[i] >= 0x80) {
                            LOG.errorf("The broker refused the subscription %s (reason 0x%02x); device messages of that"
                                    + " kind will not arrive. If the broker lacks shared subscriptions, set"
                                    + " edgefleet.mqtt.shared-subscriptions=false", filters.get(i), codes[i]);
                        }
                    }
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    LOG.errorf("Subscribing to device topics failed: %s", e.toString());
                }
            }, new MqttProperties());
        } catch (MqttException e) {
            LOG.errorf("Subscribing to device topics failed: %s", e.getMessage());
        }
        if (config.mqtt().sharedSubscriptions()) {
            readRetainedStatuses(c, connection.get());
        }
        connectedEvent.fire(new BrokerConnected(reconnect));
    }

    /**
     * Subscribes to the plain (not shared) status filter, so the broker sends every device's retained status,
     * and unsubscribes once none arrived for {@link #RETAINED_QUIET_MS}. Live statuses that arrive through both
     * subscriptions meanwhile are recognised by their message id and applied once.
     */
    private void readRetainedStatuses(MqttAsyncClient c, long conn) {
        // ".../+/status/#" matches what ".../+/status" matches (a trailing # also matches its parent level) but is
        // another filter string: with the plain ".../+/status" the embedded broker (Moquette) delivered no status at
        // all after the read (FleetReconnectIT), as if the plain filter and its unsubscribe replaced the shared one.
        String plain = Topics.allDevices(Topics.Kind.STATUS) + "/#";
        long started = System.currentTimeMillis();
        retainedRead.set(0);
        try {
            c.subscribe(new MqttSubscription[] {new MqttSubscription(plain, 1)}, null,
                    new org.eclipse.paho.mqttv5.client.MqttActionListener() {
                        @Override
                        public void onSuccess(IMqttToken token) {
                            lastRetainedAt = System.currentTimeMillis();
                            scheduleRetainedEnd(c, conn, plain, started);
                        }

                        @Override
                        public void onFailure(IMqttToken token, Throwable e) {
                            LOG.warnf("Could not read the retained device statuses (%s): a device that came online"
                                    + " while no server was subscribed is shown offline until its next status", e.toString());
                        }
                    }, new MqttProperties());
        } catch (MqttException e) {
            LOG.warnf("Could not read the retained device statuses: %s", e.getMessage());
        }
    }

    private void scheduleRetainedEnd(MqttAsyncClient c, long conn, String plain, long started) {
        try {
            retry.schedule(() -> {
                long now = System.currentTimeMillis();
                if (conn != connection.get() || client != c || stopping) {
                    return; // that connection is gone; the next one reads again
                }
                // Quiet only counts while the broker could send: when the server holds it back (the Receive
                // Maximum's worth of messages pending, or a full ingest queue) the retained statuses wait behind
                // the backlog (the 10,000-agent run read none in 67 s and stopped reading with them still queued).
                boolean heldBack = now - dispatcher.lastBackpressureAt() < RETAINED_QUIET_MS;
                if ((now - lastRetainedAt < RETAINED_QUIET_MS || heldBack) && now - started < RETAINED_MAX_MS) {
                    scheduleRetainedEnd(c, conn, plain, started);
                    return;
                }
                try {
                    c.unsubscribe(plain);
                    LOG.infof("read %d retained device status(es) in %d ms", retainedRead.get(), now - started);
                } catch (MqttException | RuntimeException e) {
                    LOG.debugf("unsubscribing %s: %s", plain, e.getMessage());
                }
            }, RETAINED_QUIET_MS / 4, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopping
        }
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
        MqttAsyncClient c = client;
        int qos = message.getQos();
        int id = message.getId();
        long conn = connection.get();
        Runnable ack = qos == 0 || c == null ? InboundDispatcher.NO_ACK : () -> ack(c, conn, id, qos);
        boolean retained = message.isRetained();
        if (retained) {
            lastRetainedAt = System.currentTimeMillis();
            retainedRead.incrementAndGet();
        }
        dispatcher.accept(topic, message.getPayload(), retained, ack);
    }

    private void ack(MqttAsyncClient c, long conn, int id, int qos) {
        if (conn != connection.get() || client != c || !c.isConnected()) {
            // That connection is gone: the broker redelivers the message on the new one.
            return;
        }
        try {
            c.messageArrivedComplete(id, qos);
        } catch (MqttException | RuntimeException e) {
            LOG.debugf("acknowledging message %d failed: %s", id, e.getMessage());
        }
    }

    /**
     * Publishes a telemetry acknowledgement at QoS 0 without waiting; false when not connected or the
     * client refused it (the next acknowledgement or the agent's replay repairs a lost one).
     */
    public boolean publishAck(String topic, byte[] payload) {
        MqttAsyncClient c = client;
        if (c == null || !c.isConnected()) {
            return false;
        }
        try {
            MqttMessage m = new MqttMessage(payload);
            m.setQos(0);
            m.setRetained(false);
            c.publish(topic, m);
            return true;
        } catch (MqttException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public void disconnected(MqttDisconnectResponse response) {
        connection.incrementAndGet();
        connectedSince = 0;
        if (!stopping) {
            LOG.warnf("MQTT gateway disconnected: %s", response.getReasonString() != null ? response.getReasonString()
                    : String.valueOf(response.getException()));
        }
    }

    @Override
    public void mqttErrorOccurred(MqttException exception) {
        LOG.warnf("MQTT error: %s", exception.getMessage());
    }

    @Override
    public void deliveryComplete(IMqttToken token) {
        // publishes are tracked through their tokens
    }

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {
        // no enhanced authentication
    }

    /**
     * The one path every command to a device takes (deploy, rollback, config): signed here for exactly that
     * device with the manifest key and an expiry (promise 3; agents refuse anything on their cmd topic that did
     * not pass through here), then QoS 1 to the device's cmd topic, not retained, without waiting. A retry
     * signs again with a fresh expiry under the same command id, so the agent still runs it once. The future
     * completes when the broker acknowledged the publish and fails when it could not be sent or was refused, so
     * callers can retry; nothing here blocks.
     */
    public java.util.concurrent.CompletableFuture<Void> sendCommand(String deviceId, Command command) {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        String topic = Topics.cmd(deviceId);
        try {
            Command signed = signingKeys.signer().sign(command, deviceId,
                    System.currentTimeMillis() + config.signing().commandTtl().toMillis());
            MqttAsyncClient c = client;
            if (c == null || !c.isConnected()) {
                throw new BrokerUnavailableException("the MQTT gateway is not connected to the broker at "
                        + broker.connectUrl(), null);
            }
            c.publish(topic, message(codec.encode(signed), false, Protocol.CONTENT_TYPE_JSON), null,
                    new org.eclipse.paho.mqttv5.client.MqttActionListener() {
                        @Override
                        public void onSuccess(IMqttToken token) {
                            try {
                                checkReason(topic, token);
                                done.complete(null);
                            } catch (BrokerUnavailableException e) {
                                done.completeExceptionally(e);
                            }
                        }

                        @Override
                        public void onFailure(IMqttToken token, Throwable e) {
                            done.completeExceptionally(new BrokerUnavailableException("publish to " + topic + " failed: "
                                    + e.getMessage(), e));
                        }
                    });
        } catch (MqttException e) {
            done.completeExceptionally(new BrokerUnavailableException("publish to " + topic + " failed: "
                    + e.getMessage(), e));
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    /** {@link #sendCommand} and wait for the broker's acknowledgement. */
    public void publishCommand(String deviceId, Command command) {
        try {
            sendCommand(deviceId, command).get(PUBLISH_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof BrokerUnavailableException b ? b
                    : new BrokerUnavailableException("publish to " + Topics.cmd(deviceId) + " failed: " + e.getCause(), e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new BrokerUnavailableException("the broker did not acknowledge the command to " + deviceId
                    + " within " + PUBLISH_TIMEOUT_MS + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BrokerUnavailableException("interrupted while publishing to " + deviceId, e);
        }
    }

    /** Publishes one JSON message at QoS 1 and waits for the broker's acknowledgement. */
    public void publishJson(String topic, Message message, boolean retained) {
        publish(topic, codec.encode(message), retained, Protocol.CONTENT_TYPE_JSON);
    }

    public void publish(String topic, byte[] payload, boolean retained, String contentType) {
        try {
            IMqttToken token = send(topic, payload, retained, contentType);
            token.waitForCompletion(PUBLISH_TIMEOUT_MS);
            checkReason(topic, token);
        } catch (MqttException e) {
            throw new BrokerUnavailableException("publish to " + topic + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Publishes many messages with at most {@link #PUBLISH_WINDOW} unacknowledged at a time: fast on
     * a good link, and never more in flight than the broker allows.
     */
    public void publishAll(List<String> topics, java.util.function.IntFunction<byte[]> payloads, boolean retained,
                           String contentType) {
        Deque<IMqttToken> inFlight = new ArrayDeque<>();
        try {
            for (int i = 0; i < topics.size(); i++) {
                if (inFlight.size() >= PUBLISH_WINDOW) {
                    IMqttToken oldest = inFlight.removeFirst();
                    oldest.waitForCompletion(PUBLISH_TIMEOUT_MS);
                    checkReason(oldest.getTopics() == null ? "?" : oldest.getTopics()[0], oldest);
                }
                inFlight.addLast(send(topics.get(i), payloads.apply(i), retained, contentType));
            }
            while (!inFlight.isEmpty()) {
                IMqttToken t = inFlight.removeFirst();
                t.waitForCompletion(PUBLISH_TIMEOUT_MS);
                checkReason(t.getTopics() == null ? "?" : t.getTopics()[0], t);
            }
        } catch (MqttException e) {
            throw new BrokerUnavailableException("publishing " + topics.size() + " messages failed: " + e.getMessage(), e);
        }
    }

    private IMqttToken send(String topic, byte[] payload, boolean retained, String contentType) throws MqttException {
        MqttAsyncClient c = client;
        if (c == null || !c.isConnected()) {
            throw new BrokerUnavailableException("the MQTT gateway is not connected to the broker at " + broker.connectUrl(), null);
        }
        MqttMessage m = message(payload, retained, contentType);
        return InflightRetry.start(() -> c.publish(topic, m), PUBLISH_TIMEOUT_MS, InflightRetry.SYSTEM);
    }

    private static MqttMessage message(byte[] payload, boolean retained, String contentType) {
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setRetained(retained);
        if (contentType != null && payload.length > 0) {
            MqttProperties props = new MqttProperties();
            props.setContentType(contentType);
            m.setProperties(props);
        }
        return m;
    }

    private static void checkReason(String topic, IMqttToken token) {
        int[] codes = token.getReasonCodes();
        if (codes != null && codes.length > 0 && codes[0] >= 0x80) {
            throw new BrokerUnavailableException(String.format("the broker refused the publish to %s (reason 0x%02x)",
                    topic, codes[0]), null);
        }
    }

    /** The broker is unreachable or refused a publish. */
    public static final class BrokerUnavailableException extends RuntimeException {
        public BrokerUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
