package io.edgefleet.agent.mqtt;

import io.edgefleet.protocol.Protocol;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The agent's MQTT 5 session over an {@link MqttTransport} (Paho by default, or the HiveMQ client on a
 * shared event loop). Clean start off with a session expiry, so QoS 1 commands queue at the broker while
 * the device is away; a retained Last Will; every connect, the first and each one after a loss, is retried
 * in the background with this session's own jittered {@link Backoff} (not a client's automatic reconnect,
 * whose delay Paho shares among all clients in a JVM). Connect attempts are asynchronous: the scheduler
 * only starts them, so one scheduler thread can serve every session of a simulator.
 * Callbacks run on the client's thread and must hand work off quickly: see {@link Handler}.
 */
public final class MqttSession implements Link, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MqttSession.class.getName());
    static final int OUTBOX_LIMIT = 1000;
    static final int KEEP_ALIVE_SECONDS = 30;
    static final int CONNECT_TIMEOUT_SECONDS = 10;

    /** Receives what arrives; called on the client's callback thread, so it must not block on the session. */
    public interface Handler {
        void onMessage(String topic, byte[] payload);

        void onConnected(boolean reconnect);

        void onConnectionLost(String reason);
    }

    /**
     * Connection settings; the will is the retained message the broker publishes if the agent vanishes,
     * built per connection from that connection's id ({@link #connectionId()}). TLS trust: a socket factory
     * (Paho only) or {@code caFile}, a PEM file of the CA(s) to pin (both clients).
     */
    public record Settings(String url, String clientId, String username, String password, long sessionExpirySeconds,
                           String willTopic, java.util.function.Function<String, byte[]> will,
                           javax.net.SocketFactory socketFactory, Path caFile) {
        public Settings(String url, String clientId, String username, String password, long sessionExpirySeconds,
                        String willTopic, java.util.function.Function<String, byte[]> will) {
            this(url, clientId, username, password, sessionExpirySeconds, willTopic, will, null, null);
        }

        public Settings(String url, String clientId, String username, String password, long sessionExpirySeconds,
                        String willTopic, java.util.function.Function<String, byte[]> will,
                        javax.net.SocketFactory socketFactory) {
            this(url, clientId, username, password, sessionExpirySeconds, willTopic, will, socketFactory, null);
        }
    }

    private record Pending(String topic, byte[] payload, boolean retained) {
    }

    private final Settings settings;
    private final Handler handler;
    private final MqttTransport client;
    /** Starts connect attempts; shared by many sessions when given, else this session's own thread. */
    private final ScheduledExecutorService connector;
    private final boolean ownConnector;
    private final Set<String> subscriptions = new LinkedHashSet<>();
    private final Deque<Pending> outbox = new ArrayDeque<>();
    private volatile boolean closed;
    private final Backoff backoff;
    private volatile boolean everConnected;
    private volatile String connectionId;
    private volatile MqttTransport.Will will;
    private volatile ScheduledFuture<?> pendingAttempt;
    /**
     * True once the current connection's subscriptions are acknowledged: only then does the session count as
     * connected, so a command the server sends the moment it sees this device online is not missed.
     */
    private volatile boolean ready;
    /** Counts connects and losses, so the SUBACKs of an earlier connection cannot mark a later one ready. */
    private final java.util.concurrent.atomic.AtomicLong generation = new java.util.concurrent.atomic.AtomicLong();
    /** True while a connect attempt is scheduled or running, so a loss never starts two loops. */
    private final AtomicBoolean connecting = new AtomicBoolean();

    /** A Paho session with its own connect thread (one device, one agent). */
    public MqttSession(Settings settings, Handler handler) {
        this(settings, handler, PahoTransport.factory(), null);
    }

    /**
     * A session on the given client implementation.
     *
     * @param connector the scheduler that starts connect attempts; shared by many sessions (it is never shut down
     *                  here), or null for a thread of this session's own
     */
    public MqttSession(Settings settings, Handler handler, MqttTransport.Factory transports, ScheduledExecutorService connector) {
        this.settings = settings;
        this.handler = handler;
        this.client = transports.create(settings.url(), settings.clientId(), settings, new Events());
        newConnection();
        this.backoff = new Backoff(1000, 30_000, settings.clientId().hashCode() * 31L + System.nanoTime());
        this.ownConnector = connector == null;
        this.connector = connector != null ? connector : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mqtt-connect-" + settings.clientId());
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts connecting in the background; returns at once. */
    public void start() {
        if (connecting.compareAndSet(false, true)) {
            schedule(0);
        }
    }

    private void scheduleReconnect() {
        if (closed || !connecting.compareAndSet(false, true)) {
            return;
        }
        schedule(backoff.nextDelayMs());
    }

    /** Schedules {@link #tryConnect} with {@code connecting} already set. */
    private void schedule(long delayMs) {
        try {
            pendingAttempt = connector.schedule(this::tryConnect, delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            connecting.set(false); // closing
        }
    }

    /**
     * A fresh connection id and a Last Will built for it, timestamped now. Renewed before each attempt and
     * whenever a connection ends: each connection's will names that connection, and the server can tell it
     * from a stale will of an earlier one.
     */
    private void newConnection() {
        String id = Protocol.newMessageId();
        connectionId = id;
        if (settings.willTopic() == null || settings.will() == null) {
            return;
        }
        byte[] payload = settings.will().apply(id);
        will = payload == null ? null : new MqttTransport.Will(settings.willTopic(), payload);
    }

    /** The id of the current (or next) connection; its ONLINE status and its will carry it. */
    public String connectionId() {
        return connectionId;
    }

    /** Which MQTT client this session runs on. */
    public MqttTransport.Kind clientKind() {
        return client instanceof HiveMqTransport ? MqttTransport.Kind.HIVEMQ : MqttTransport.Kind.PAHO;
    }

    private void tryConnect() {
        if (closed || client.isConnected()) {
            connecting.set(false);
            return;
        }
        newConnection();
        byte[] password = settings.password() == null || settings.password().isEmpty() ? null
                : settings.password().getBytes(StandardCharsets.UTF_8);
        CompletableFuture<Void> attempt;
        try {
            attempt = client.connect(new MqttTransport.ConnectOptions(settings.username(), password,
                    settings.sessionExpirySeconds(), KEEP_ALIVE_SECONDS, CONNECT_TIMEOUT_SECONDS, will));
        } catch (RuntimeException e) {
            attempt = CompletableFuture.failedFuture(e);
        }
        attempt.whenComplete((ok, err) -> {
            if (err == null) {
                // onConnected did the rest
                connecting.set(false);
                if (!client.isConnected()) {
                    scheduleReconnect(); // lost again before the flag was cleared
                }
                return;
            }
            Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                    ? err.getCause() : err;
            int attempts = backoff.attempts() + 1;
            long delay = backoff.nextDelayMs();
            String why = cause instanceof MqttTransport.RefusedException r
                    && (r.reasonCode() == 0x86 || r.reasonCode() == 0x87)
                    ? "the broker refused the credentials of '" + settings.username() + "'"
                    : MqttTransport.describe(cause);
            if (attempts <= 3 || attempts % 10 == 0) {
                LOG.log(System.Logger.Level.WARNING, settings.clientId() + ": cannot connect to " + settings.url() + " ("
                        + why + "); retrying in " + delay + " ms");
            }
            if (closed) {
                connecting.set(false);
                return;
            }
            schedule(delay);
        });
    }

    @Override
    public boolean isConnected() {
        return ready && client.isConnected();
    }

    @Override
    public void publish(String topic, byte[] json, boolean retained) {
        synchronized (this) {
            if (!isConnected() || !outbox.isEmpty()) {
                enqueue(new Pending(topic, json, retained));
                return;
            }
        }
        CompletableFuture<Void> f = send(topic, json, retained);
        if (f.isCompletedExceptionally()) {
            synchronized (this) {
                enqueue(new Pending(topic, json, retained));
            }
        }
    }

    private CompletableFuture<Void> send(String topic, byte[] json, boolean retained) {
        try {
            return client.publish(topic, json, retained, Protocol.CONTENT_TYPE_JSON);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
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
        if (!isConnected()) {
            return false;
        }
        try {
            send(topic, json, retained).get(timeoutMs, TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Publishes at QoS 1 without blocking the caller: the future completes at the broker's PUBACK, false
     * when the message was not delivered (not connected, refused, connection lost).
     */
    @Override
    public CompletableFuture<Boolean> publishAsync(String topic, byte[] json, boolean retained) {
        if (!isConnected()) {
            return CompletableFuture.completedFuture(false);
        }
        return send(topic, json, retained).handle((ok, err) -> err == null);
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
            doSubscribe(false, filters.toArray(String[]::new));
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
            CompletableFuture<Void> f;
            try {
                f = client.unsubscribe(filters);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete((ok, err) -> {
                if (err != null) {
                    LOG.log(System.Logger.Level.DEBUG, "unsubscribe " + filters + " failed: " + MqttTransport.describe(err));
                }
            });
        }
    }

    /** One SUBSCRIBE for all the filters (QoS 1, retain handling 1: see {@link MqttTransport#subscribe}). */
    private CompletableFuture<int[]> doSubscribe(boolean resumed, String... filters) {
        java.util.List<String> list = java.util.List.of(filters);
        CompletableFuture<int[]> f;
        try {
            f = client.subscribe(list, resumed);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        return f.whenComplete((codes, err) -> {
            if (err != null) {
                LOG.log(System.Logger.Level.WARNING, settings.clientId() + ": subscribe to " + list + " failed: "
                        + MqttTransport.describe(err));
                return;
            }
            for (int i = 0; codes != null && i < codes.length && i < filters.length; i++) {
                if (codes[i] >= 0x80) {
                    // e.g. 0x87 Not authorized: the broker ACL does not allow this device that topic
                    LOG.log(System.Logger.Level.ERROR, settings.clientId() + ": the broker refused the subscription to "
                            + filters[i] + " (reason code 0x" + Integer.toHexString(codes[i]) + ")");
                }
            }
        });
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
            if (send(p.topic(), p.payload(), p.retained()).isCompletedExceptionally()) {
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

    /** Orderly end: the caller publishes its OFFLINE status first; a normal DISCONNECT suppresses the will. */
    @Override
    public void close() {
        closed = true;
        stopConnecting();
        try {
            if (client.isConnected()) {
                client.disconnect().get(6000, TimeUnit.MILLISECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(System.Logger.Level.DEBUG, "disconnect failed: " + MqttTransport.describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
    }

    /** Drops the connection without a DISCONNECT, as a power cut would: the broker publishes the will. */
    public void kill() {
        closed = true;
        stopConnecting();
        client.kill();
        client.close();
    }

    private void stopConnecting() {
        ScheduledFuture<?> f = pendingAttempt;
        if (f != null) {
            f.cancel(false);
        }
        if (ownConnector) {
            connector.shutdownNow();
        }
    }

    /** What the client reports, on its own thread. */
    private final class Events implements MqttTransport.Listener {
        @Override
        public void onConnected() {
            boolean reconnect = everConnected;
            everConnected = true;
            backoff.reset();
            LOG.log(System.Logger.Level.INFO, settings.clientId() + ": connected to " + settings.url()
                    + (reconnect ? " (reconnect)" : ""));
            String[] subs;
            synchronized (MqttSession.this) {
                subs = subscriptions.toArray(String[]::new);
            }
            long gen = generation.incrementAndGet();
            CompletableFuture<?>[] acks = new CompletableFuture<?>[subs.length == 0 ? 0 : 1];
            if (subs.length > 0) {
                acks[0] = doSubscribe(reconnect, subs);
            }
            // Ready once every SUBACK is in (a refused one is logged and does not hold the session back).
            // (The client may still report "connecting" while its connected callback runs: the generation is the test.)
            CompletableFuture.allOf(acks).handle((ok, err) -> null).thenRun(() -> {
                if (generation.get() != gen || closed) {
                    return;
                }
                ready = true;
                handler.onConnected(reconnect);
                flushOutbox();
            });
        }

        @Override
        public void onConnectionLost(String why) {
            generation.incrementAndGet();
            ready = false;
            // The next connection gets its own will.
            newConnection();
            if (!closed) {
                LOG.log(System.Logger.Level.WARNING, settings.clientId() + ": connection lost (" + why + ")");
                handler.onConnectionLost(why);
                scheduleReconnect();
            }
        }

        @Override
        public void onMessage(String topic, byte[] payload) {
            handler.onMessage(topic, payload);
        }
    }
}
