package io.edgefleet.agent.mqtt;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
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
 * {@link MqttTransport} on Eclipse Paho v5's {@code MqttAsyncClient} with blocking sockets: a receiver,
 * a sender and a callback loop per client (three threads, taken from the shared executor when one is
 * given, else Paho's own) plus a keep-alive timer. Small and well known: the default for a real device.
 */
public final class PahoTransport implements MqttTransport {
    private static final System.Logger LOG = System.getLogger(PahoTransport.class.getName());

    static {
        if (!bulkDecoding()) {
            LOG.log(System.Logger.Level.WARNING, "Paho's own CountingInputStream is loaded, not the agent's: received "
                    + "payloads are decoded one byte per call (about 29 CPU-s per GB on a server core); put the "
                    + "edge-agent classes before the Paho jar on the class path");
        }
    }

    /**
     * True when Paho decodes packets through the agent's {@code CountingInputStream}, which reads arrays in bulk
     * (it replaces Paho 1.2.5's, whose one-byte reads cost one call and one lock per received byte).
     */
    static boolean bulkDecoding() {
        try {
            org.eclipse.paho.mqttv5.common.packet.util.CountingInputStream.class
                    .getDeclaredMethod("read", byte[].class, int.class, int.class);
            return true;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private final MqttAsyncClient client;
    private final MqttSession.Settings settings;

    /**
     * @param executor shared by every Paho client of the JVM when not null (its comms loops and keep-alive
     *                 timer run there; it must be able to run three tasks per client at once, i.e. unbounded)
     */
    PahoTransport(String url, String clientId, MqttSession.Settings settings, ScheduledExecutorService executor,
                  Listener listener) {
        this.settings = settings;
        try {
            this.client = executor == null
                    ? new MqttAsyncClient(url, clientId, new MemoryPersistence())
                    : new MqttAsyncClient(url, clientId, new MemoryPersistence(), null, executor);
        } catch (MqttException e) {
            throw new IllegalArgumentException("cannot create an MQTT client for " + url + ": " + e.getMessage(), e);
        }
        client.setCallback(new MqttCallback() {
            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
                listener.onConnected();
            }

            @Override
            public void disconnected(MqttDisconnectResponse response) {
                String why = response.getException() != null ? response.getException().getMessage()
                        : response.getReasonString() != null ? response.getReasonString() : "code " + response.getReturnCode();
                listener.onConnectionLost(why);
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
                LOG.log(System.Logger.Level.WARNING, clientId + ": MQTT error: " + exception.getMessage());
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                listener.onMessage(topic, message.getPayload());
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
                // completions are handled per publish
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
                // no enhanced authentication
            }
        });
    }

    /** Paho with its own threads per client (a device's agent). */
    public static Factory factory() {
        return factory(null);
    }

    /** Paho clients sharing one executor for their comms loops and keep-alive timers. */
    public static Factory factory(ScheduledExecutorService shared) {
        return new Factory() {
            @Override
            public MqttTransport create(String url, String clientId, MqttSession.Settings settings, Listener listener) {
                return new PahoTransport(url, clientId, settings, shared, listener);
            }

            @Override
            public Kind kind() {
                return Kind.PAHO;
            }
        };
    }

    @Override
    public CompletableFuture<Void> connect(ConnectOptions o) {
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(false);
        options.setSessionExpiryInterval(o.sessionExpirySeconds());
        options.setAutomaticReconnect(false);
        options.setKeepAliveInterval(o.keepAliveSeconds());
        options.setConnectionTimeout(o.connectTimeoutSeconds());
        options.setUserName(o.username());
        if (o.password() != null && o.password().length > 0) {
            options.setPassword(o.password());
        }
        if (o.will() != null) {
            options.setWill(o.will().topic(), new MqttMessage(o.will().payload(), 1, true, null));
            options.setWillMessageProperties(json());
        }
        javax.net.SocketFactory sf = settings.socketFactory();
        if (sf == null && settings.caFile() != null) {
            sf = PinnedCa.socketFactory(settings.caFile());
        }
        if (sf != null) {
            options.setSocketFactory(sf);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            client.connect(options, null, listener(done, t -> null));
        } catch (MqttException e) {
            done.completeExceptionally(refusal(e));
        }
        return done;
    }

    @Override
    public boolean isConnected() {
        return client.isConnected();
    }

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained, String contentType) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        MqttProperties props = new MqttProperties();
        props.setContentType(contentType);
        try {
            client.publish(topic, new MqttMessage(payload, 1, retained, props), null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken t) {
                    int[] codes = t.getReasonCodes();
                    if (codes != null && codes.length > 0 && codes[0] >= 0x80) {
                        done.completeExceptionally(new RefusedException(codes[0], "PUBACK refused " + topic));
                    } else {
                        done.complete(null);
                    }
                }

                @Override
                public void onFailure(IMqttToken t, Throwable e) {
                    done.completeExceptionally(e);
                }
            });
        } catch (MqttException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public CompletableFuture<int[]> subscribe(java.util.List<String> filters, boolean resumed) {
        CompletableFuture<int[]> done = new CompletableFuture<>();
        MqttSubscription[] subs = new MqttSubscription[filters.size()];
        for (int i = 0; i < subs.length; i++) {
            subs[i] = new MqttSubscription(filters.get(i), 1);
            subs[i].setRetainHandling(resumed ? 1 : 0);
        }
        try {
            client.subscribe(subs, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken t) {
                    int[] codes = t.getReasonCodes();
                    if (codes == null || codes.length < subs.length) {
                        codes = new int[subs.length];
                        java.util.Arrays.fill(codes, 1);
                    }
                    done.complete(codes);
                }

                @Override
                public void onFailure(IMqttToken t, Throwable e) {
                    done.completeExceptionally(e);
                }
            }, new MqttProperties());
        } catch (MqttException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public CompletableFuture<Void> unsubscribe(java.util.List<String> filters) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            client.unsubscribe(filters.toArray(String[]::new), null, listener(done, t -> null), new MqttProperties());
        } catch (MqttException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public CompletableFuture<Void> disconnect() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            if (!client.isConnected()) {
                done.complete(null);
                return done;
            }
            client.disconnect(5000, null, listener(done, t -> null), 0, new MqttProperties());
        } catch (MqttException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public void kill() {
        try {
            client.disconnectForcibly(0, 1000, false);
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.DEBUG, "forced disconnect failed: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            client.close(true);
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.DEBUG, "close failed: " + e.getMessage());
        }
    }

    private static <T> MqttActionListener listener(CompletableFuture<T> done, java.util.function.Function<IMqttToken, T> value) {
        return new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken t) {
                done.complete(value.apply(t));
            }

            @Override
            public void onFailure(IMqttToken t, Throwable e) {
                done.completeExceptionally(e instanceof MqttException me ? refusal(me) : e);
            }
        };
    }

    /** CONNACK 0x86/0x87 (bad user name or password, not authorized) keep their reason code. */
    private static RuntimeException refusal(MqttException e) {
        int code = e.getReasonCode();
        return code >= 0x80 && code <= 0xFF ? new RefusedException(code, e.getMessage())
                : new IllegalStateException(e.getMessage(), e);
    }

    static MqttProperties json() {
        MqttProperties p = new MqttProperties();
        p.setContentType(io.edgefleet.protocol.Protocol.CONTENT_TYPE_JSON);
        return p;
    }
}
