package io.edgefleet.agent.mqtt;

import io.edgefleet.protocol.Protocol;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;
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

/**
 * The agent's MQTT 5 session (Paho). Clean start off with a session expiry, so QoS 1 commands queue
 * at the broker while the device is away; a retained Last Will; every connect, the first and each
 * one after a loss, is retried in the background with this session's own jittered {@link Backoff}
 * (not Paho's automatic reconnect, whose delay is shared by all clients in a JVM).
 * Callbacks run on Paho's thread and must hand work off quickly: see {@link Handler}.
 */
public final class MqttSession implements Link, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MqttSession.class.getName());
    static final int OUTBOX_LIMIT = 1000;

    /** Receives what arrives; called on Paho's callback thread, so it must not block on the session. */
    public interface Handler {
        void onMessage(String topic, byte[] payload);

        void onConnected(boolean reconnect);

        void onConnectionLost(String reason);
    }

    /**
     * Connection settings; the will is the retained message the broker publishes if the agent vanishes,
     * built per connection from that connection's id ({@link #connectionId()}).
     */
    public record Settings(String url, String clientId, String username, String password, long sessionExpirySeconds,
                           String willTopic, java.util.function.Function<String, byte[]> will,
                           javax.net.SocketFactory socketFactory) {
        public Settings(String url, String clientId, String username, String password, long sessionExpirySeconds,
                        String willTopic, java.util.function.Function<String, byte[]> will) {
            this(url, clientId, username, password, sessionExpirySeconds, willTopic, will, null);
        }
    }

    private record Pending(String topic, byte[] payload, boolean retained) {
    }

    private final Settings settings;
    private final Handler handler;
    private final MqttAsyncClient client;
    private final MqttConnectionOptions options;
    private final ScheduledExecutorService connector;
    private final Set<String> subscriptions = new LinkedHashSet<>();
    private final Deque<Pending> outbox = new ArrayDeque<>();
    private volatile boolean closed;
    private final Backoff backoff;
    private volatile boolean everConnected;
    private volatile String connectionId;
    /** True while a connect attempt is scheduled or running, so a loss never starts two loops. */
    private final java.util.concurrent.atomic.AtomicBoolean connecting = new java.util.concurrent.atomic.AtomicBoolean();

    public MqttSession(Settings settings, Handler handler) {
        this.settings = settings;
        this.handler = handler;
        try {
            this.client = new MqttAsyncClient(settings.url(), settings.clientId(), new MemoryPersistence());
        } catch (MqttException e) {
            throw new IllegalArgumentException("cannot create an MQTT client for " + settings.url() + ": " + e.getMessage(), e);
        }
        this.options = new MqttConnectionOptions();
        options.setCleanStart(false);
        options.setSessionExpiryInterval(settings.sessionExpirySeconds());
        options.setAutomaticReconnect(false);
        options.setKeepAliveInterval(30);
        options.setConnectionTimeout(10);
        options.setUserName(settings.username());
        if (settings.password() != null && !settings.password().isEmpty()) {
            options.setPassword(settings.password().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        newConnection();
        if (settings.socketFactory() != null) {
            options.setSocketFactory(settings.socketFactory());
        }
        client.setCallback(new Callback());
        this.backoff = new Backoff(1000, 30_000, settings.clientId().hashCode() * 31L + System.nanoTime());
        this.connector = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mqtt-connect-" + settings.clientId());
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts connecting in the background; returns at once. */
    public void start() {
        if (connecting.compareAndSet(false, true)) {
            connector.execute(this::tryConnect);
        }
    }

    private void scheduleReconnect() {
        if (closed || !connecting.compareAndSet(false, true)) {
            return;
        }
        long delay = backoff.nextDelayMs();
        try {
            connector.schedule(this::tryConnect, delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            connecting.set(false); // closing
        }
    }

    /**
     * A fresh connection id and a Last Will built for it, timestamped now. Paho sends the will from the
     * options object at every connect, so the options are renewed before each attempt and whenever a
     * connection ends: each connection's will names that connection, and the server can tell it from a
     * stale will of an earlier one.
     */
    private void newConnection() {
        String id = io.edgefleet.protocol.Protocol.newMessageId();
        connectionId = id;
        if (settings.willTopic() == null || settings.will() == null) {
            return;
        }
        byte[] payload = settings.will().apply(id);
        if (payload == null) {
            return;
        }
        options.setWill(settings.willTopic(), new MqttMessage(payload, 1, true, null));
        options.setWillMessageProperties(jsonProperties());
    }

    /** The id of the current (or next) connection; its ONLINE status and its will carry it. */
    public String connectionId() {
        return connectionId;
    }

    private void tryConnect() {
        if (closed || client.isConnected()) {
            connecting.set(false);
            return;
        }
        try {
            newConnection();
            client.connect(options).waitForCompletion(15_000);
            // connectComplete does the rest
            connecting.set(false);
            if (!client.isConnected()) {
                scheduleReconnect(); // lost again before the flag was cleared
            }
        } catch (MqttException e) {
            int attempts = backoff.attempts() + 1;
            long delay = backoff.nextDelayMs();
            String why = e.getReasonCode() == 134 || e.getReasonCode() == 135
                    ? "the broker refused the credentials of '" + settings.username() + "'"
                    : e.getMessage();
            if (attempts <= 3 || attempts % 10 == 0) {
                LOG.log(System.Logger.Level.WARNING, settings.clientId() + ": cannot connect to " + settings.url() + " ("
                        + why + "); retrying in " + delay + " ms");
            }
            if (closed) {
                connecting.set(false);
                return;
            }
            try {
                connector.schedule(this::tryConnect, delay, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                connecting.set(false);
            }
        }
    }

    @Override
    public boolean isConnected() {
        return client.isConnected();
    }

    @Override
    public void publish(String topic, byte[] json, boolean retained) {
        synchronized (this) {
            if (!client.isConnected() || !outbox.isEmpty()) {
                enqueue(new Pending(topic, json, retained));
                return;
            }
        }
        try {
            client.publish(topic, new MqttMessage(json, 1, retained, jsonProperties()));
        } catch (MqttException e) {
            synchronized (this) {
                enqueue(new Pending(topic, json, retained));
            }
        }
    }

    private void enqueue(Pending p) {
        if (outbox.size() >= OUTBOX_LIMIT) {
            Pending dropped = outbox.removeFirst();
            LOG.log(System.Logger.Level.WARNING, settings.clientId() + ": offline queue full, dropped a message for "
                    + dropped.topic());
        }
        outbox.addLast(p);
    }

    @Override
    public boolean publishAndWait(String topic, byte[] json, boolean retained, long timeoutMs) {
        if (!client.isConnected()) {
            return false;
        }
        try {
            IMqttToken token = client.publish(topic, new MqttMessage(json, 1, retained, jsonProperties()));
            token.waitForCompletion(timeoutMs);
            return token.isComplete() && token.getException() == null;
        } catch (MqttException e) {
            return false;
        }
    }

    @Override
    public void subscribe(String filter) {
        subscribe(java.util.List.of(filter));
    }

    @Override
    public void subscribe(java.util.List<String> filters) {
        if (filters.isEmpty()) {
            return;
        }
        synchronized (this) {
            subscriptions.addAll(filters);
        }
        if (client.isConnected()) {
            doSubscribe(filters.toArray(String[]::new));
        }
    }

    @Override
    public void unsubscribe(String filter) {
        unsubscribe(java.util.List.of(filter));
    }

    @Override
    public void unsubscribe(java.util.List<String> filters) {
        if (filters.isEmpty()) {
            return;
        }
        synchronized (this) {
            filters.forEach(subscriptions::remove);
        }
        if (client.isConnected()) {
            try {
                client.unsubscribe(filters.toArray(String[]::new));
            } catch (MqttException e) {
                LOG.log(System.Logger.Level.DEBUG, "unsubscribe " + filters + " failed: " + e.getMessage());
            }
        }
    }

    /**
     * One SUBSCRIBE for all the filters, QoS 1, with retain handling 1: the broker sends a topic's retained
     * message only when the subscription is new. A reconnect that resumes the persistent session therefore
     * re-subscribes without making the broker send every retained artifact chunk again (the session's queue
     * already holds what was on its way); a fresh session gets them. A caller that wants a retained message
     * again unsubscribes first.
     */
    private void doSubscribe(String... filters) {
        MqttSubscription[] subs = new MqttSubscription[filters.length];
        for (int i = 0; i < filters.length; i++) {
            subs[i] = new MqttSubscription(filters[i], 1);
            subs[i].setRetainHandling(1);
        }
        try {
            IMqttToken token = client.subscribe(subs);
            token.setActionCallback(new org.eclipse.paho.mqttv5.client.MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken t) {
                    int[] codes = t.getReasonCodes();
                    for (int i = 0; codes != null && i < codes.length && i < filters.length; i++) {
                        if (codes[i] >= 0x80) {
                            // e.g. 0x87 Not authorized: the broker ACL does not allow this device that topic
                            LOG.log(System.Logger.Level.ERROR, settings.clientId() + ": the broker refused the subscription to "
                                    + filters[i] + " (reason code 0x" + Integer.toHexString(codes[i]) + ")");
                        }
                    }
                }

                @Override
                public void onFailure(IMqttToken t, Throwable e) {
                    LOG.log(System.Logger.Level.WARNING, settings.clientId() + ": subscribe to "
                            + java.util.Arrays.toString(filters) + " failed: " + e);
                }
            });
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.WARNING, settings.clientId() + ": subscribe to " + java.util.Arrays.toString(filters)
                    + " failed: " + e.getMessage());
        }
    }

    private void flushOutbox() {
        while (true) {
            Pending p;
            synchronized (this) {
                if (!client.isConnected()) {
                    return;
                }
                p = outbox.pollFirst();
            }
            if (p == null) {
                return;
            }
            try {
                client.publish(p.topic(), new MqttMessage(p.payload(), 1, p.retained(), jsonProperties()));
            } catch (MqttException e) {
                synchronized (this) {
                    outbox.addFirst(p);
                }
                return;
            }
        }
    }

    synchronized int outboxSize() {
        return outbox.size();
    }

    static MqttProperties jsonProperties() {
        MqttProperties p = new MqttProperties();
        p.setContentType(Protocol.CONTENT_TYPE_JSON);
        return p;
    }

    /** Orderly end: the caller publishes its OFFLINE status first; a normal DISCONNECT suppresses the will. */
    @Override
    public void close() {
        closed = true;
        connector.shutdownNow();
        try {
            if (client.isConnected()) {
                client.disconnect(5000).waitForCompletion(6000);
            }
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.DEBUG, "disconnect failed: " + e.getMessage());
        }
        closeClient();
    }

    /** Drops the connection without a DISCONNECT, as a power cut would: the broker publishes the will. */
    public void kill() {
        closed = true;
        connector.shutdownNow();
        try {
            client.disconnectForcibly(0, 1000, false);
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.DEBUG, "forced disconnect failed: " + e.getMessage());
        }
        closeClient();
    }

    private void closeClient() {
        try {
            client.close(true);
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.DEBUG, "close failed: " + e.getMessage());
        }
    }

    private final class Callback implements MqttCallback {
        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            reconnect = everConnected || reconnect;
            everConnected = true;
            backoff.reset();
            LOG.log(System.Logger.Level.INFO, settings.clientId() + ": connected to " + serverURI + (reconnect ? " (reconnect)" : ""));
            String[] subs;
            synchronized (MqttSession.this) {
                subs = subscriptions.toArray(String[]::new);
            }
            if (subs.length > 0) {
                doSubscribe(subs);
            }
            handler.onConnected(reconnect);
            flushOutbox();
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            // Before Paho's reconnect timer (at least 1 s) fires: the next connection gets its own will.
            newConnection();
            if (!closed) {
                String why = response.getException() != null ? response.getException().getMessage()
                        : response.getReasonString() != null ? response.getReasonString() : "code " + response.getReturnCode();
                LOG.log(System.Logger.Level.WARNING, settings.clientId() + ": connection lost (" + why + ")");
                handler.onConnectionLost(why);
                scheduleReconnect();
            }
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            LOG.log(System.Logger.Level.WARNING, settings.clientId() + ": MQTT error: " + exception.getMessage());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            handler.onMessage(topic, message.getPayload());
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
            // QoS 1 acknowledgements are awaited where they matter (telemetry).
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
            // no enhanced authentication
        }
    }
}
