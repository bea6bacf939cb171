package io.edgefleet.agent.mqtt;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.MqttClientSslConfig;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5ClientBuilder;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5MessageException;
import com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5ConnectBuilder;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAckReasonCode;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * {@link MqttTransport} on the HiveMQ MQTT client (MQTT 5, Netty, non-blocking): every client of a
 * {@link #factory(Executor) factory} shares one Netty event loop group, so a JVM with ten thousand
 * sessions has the same handful of MQTT threads as one with ten. Reconnects stay with the session (its
 * own jittered {@link Backoff}), not the client's automatic reconnect. TLS trusts only the pinned CA
 * file ({@code mqttCaFile}); host names are verified (the client's default endpoint identification).
 */
public final class HiveMqTransport implements MqttTransport {
    private final Mqtt5AsyncClient client;
    private final String clientId;
    /** True between a connect that succeeded and the end of that connection; a failed attempt is not a loss. */
    private volatile boolean up;

    HiveMqTransport(String url, String clientId, MqttSession.Settings settings, Executor nettyExecutor, Listener listener) {
        this.clientId = clientId;
        URI uri = URI.create(url);
        String scheme = uri.getScheme() == null ? "tcp" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        boolean tls = scheme.equals("ssl") || scheme.equals("wss");
        if (scheme.startsWith("ws")) {
            throw new IllegalArgumentException("mqttClient=hivemq: " + url + " (WebSocket) is not supported here; use tcp:// or ssl://,"
                    + " or mqttClient=paho");
        }
        if (settings.socketFactory() != null && settings.caFile() == null) {
            throw new IllegalArgumentException("mqttClient=hivemq takes the broker CA as a file (mqttCaFile), not a socket factory");
        }
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 8883 : 1883;
        // Address, timeouts and TLS in one transport config, built in one place.
        com.hivemq.client.mqtt.MqttClientTransportConfigBuilder transport = com.hivemq.client.mqtt.MqttClientTransportConfig.builder()
                .serverHost(uri.getHost())
                .serverPort(port)
                .socketConnectTimeout(10, TimeUnit.SECONDS)
                .mqttConnectTimeout(10, TimeUnit.SECONDS);
        if (tls) {
            transport = transport.sslConfig(settings.caFile() != null
                    ? MqttClientSslConfig.builder().trustManagerFactory(PinnedCa.trustManagerFactory(settings.caFile())).build()
                    : MqttClientSslConfig.builder().build());
        }
        Mqtt5ClientBuilder b = MqttClient.builder().useMqttVersion5()
                .identifier(clientId)
                .transportConfig(transport.build())
                .addConnectedListener(ctx -> {
                    up = true;
                    listener.onConnected();
                })
                .addDisconnectedListener(ctx -> {
                    if (up) {
                        up = false;
                        if (ctx.getSource() != com.hivemq.client.mqtt.lifecycle.MqttDisconnectSource.USER) {
                            listener.onConnectionLost(MqttTransport.describe(ctx.getCause()));
                        }
                    }
                });
        if (nettyExecutor != null) {
            b = b.executorConfig().nettyExecutor(nettyExecutor).applyExecutorConfig();
        }
        this.client = b.buildAsync();
        // Registered before the first connect: messages the broker kept for the session arrive with the CONNACK.
        // The client sends the PUBACK once this returns (QoS 1, acknowledged after the handler took the message).
        client.publishes(MqttGlobalPublishFilter.ALL, (Mqtt5Publish p) -> listener.onMessage(p.getTopic().toString(),
                p.getPayloadAsBytes()));
    }

    /** HiveMQ clients sharing the client's default Netty event loop group. */
    public static Factory factory() {
        return factory(null);
    }

    /**
     * HiveMQ clients whose Netty event loops take their threads from {@code nettyExecutor} (one group for all
     * clients with the same executor); null: the client's default group, also shared by all clients.
     */
    public static Factory factory(Executor nettyExecutor) {
        return new Factory() {
            @Override
            public MqttTransport create(String url, String clientId, MqttSession.Settings settings, Listener listener) {
                return new HiveMqTransport(url, clientId, settings, nettyExecutor, listener);
            }

            @Override
            public Kind kind() {
                return Kind.HIVEMQ;
            }
        };
    }

    @Override
    public CompletableFuture<Void> connect(ConnectOptions o) {
        Mqtt5ConnectBuilder.Send<CompletableFuture<com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck>> c =
                client.connectWith()
                        .cleanStart(false)
                        .sessionExpiryInterval(o.sessionExpirySeconds())
                        .keepAlive(o.keepAliveSeconds());
        if (o.username() != null && !o.username().isEmpty()) {
            var auth = c.simpleAuth().username(o.username());
            if (o.password() != null && o.password().length > 0) {
                auth = auth.password(o.password());
            }
            c = auth.applySimpleAuth();
        }
        if (o.will() != null) {
            c = c.willPublish()
                    .topic(o.will().topic())
                    .qos(MqttQos.AT_LEAST_ONCE)
                    .payload(o.will().payload())
                    .retain(true)
                    .contentType(io.edgefleet.protocol.Protocol.CONTENT_TYPE_JSON)
                    .applyWillPublish();
        }
        return c.send().handle((ack, err) -> {
            if (err != null) {
                throw new java.util.concurrent.CompletionException(unwrap(err));
            }
            return null;
        });
    }

    @Override
    public boolean isConnected() {
        return client.getState().isConnected() && up;
    }

    @Override
    public CompletableFuture<Void> publish(String topic, byte[] payload, boolean retained, String contentType) {
        return client.publishWith()
                .topic(topic)
                .qos(MqttQos.AT_LEAST_ONCE)
                .retain(retained)
                .payload(payload)
                .contentType(contentType)
                .send()
                .thenApply(HiveMqTransport::checkPubAck);
    }

    private static Void checkPubAck(Mqtt5PublishResult r) {
        if (r.getError().isPresent()) {
            throw new java.util.concurrent.CompletionException(unwrap(r.getError().get()));
        }
        if (r instanceof Mqtt5PublishResult.Mqtt5Qos1Result q && q.getPubAck().getReasonCode().isError()) {
            throw new RefusedException(q.getPubAck().getReasonCode().getCode(), "PUBACK refused " + r.getPublish().getTopic());
        }
        return null;
    }

    @Override
    public CompletableFuture<int[]> subscribe(java.util.List<String> filters, boolean resumed) {
        java.util.List<com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscription> subs = new java.util.ArrayList<>();
        for (String f : filters) {
            subs.add(com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscription.builder()
                    .topicFilter(f)
                    .qos(MqttQos.AT_LEAST_ONCE)
                    .retainHandling(resumed ? com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5RetainHandling.SEND_IF_SUBSCRIPTION_DOES_NOT_EXIST
                            : com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5RetainHandling.SEND)
                    .build());
        }
        return client.subscribe(com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscribe.builder()
                        .addSubscriptions(subs).build())
                .handle((ack, err) -> {
                    java.util.List<Mqtt5SubAckReasonCode> codes;
                    if (err != null) {
                        Throwable e = err;
                        while (e instanceof java.util.concurrent.CompletionException && e.getCause() != null) {
                            e = e.getCause();
                        }
                        if (e instanceof Mqtt5MessageException m
                                && m.getMqttMessage() instanceof com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAck a) {
                            codes = a.getReasonCodes(); // every filter refused: the broker's codes say why
                        } else {
                            throw new java.util.concurrent.CompletionException(unwrap(e));
                        }
                    } else {
                        codes = ack.getReasonCodes();
                    }
                    int[] out = new int[filters.size()];
                    for (int i = 0; i < out.length; i++) {
                        out[i] = i < codes.size() ? codes.get(i).getCode() : 0x80;
                    }
                    return out;
                });
    }

    @Override
    public CompletableFuture<Void> unsubscribe(java.util.List<String> filters) {
        var b = com.hivemq.client.mqtt.mqtt5.message.unsubscribe.Mqtt5Unsubscribe.builder();
        com.hivemq.client.mqtt.mqtt5.message.unsubscribe.Mqtt5UnsubscribeBuilder.Complete c = null;
        for (String f : filters) {
            c = c == null ? b.addTopicFilter(f) : c.addTopicFilter(f);
        }
        if (c == null) {
            return CompletableFuture.completedFuture(null);
        }
        return client.unsubscribe(c.build()).thenApply(a -> null);
    }

    @Override
    public CompletableFuture<Void> disconnect() {
        if (!client.getState().isConnectedOrReconnect()) {
            return CompletableFuture.completedFuture(null);
        }
        up = false;
        return client.disconnect().exceptionally(e -> null);
    }

    /**
     * Closes the socket under the client without a DISCONNECT packet, as a power cut would, so the broker
     * publishes the will. The client's public API only offers an orderly DISCONNECT (or one that asks for the
     * will, reason 0x04, which still tells the broker the client is leaving); the channel comes from its
     * connection configuration.
     */
    @Override
    public void kill() {
        up = false;
        client.getConfig().getConnectionConfig().ifPresent(cc -> {
            if (cc instanceof com.hivemq.client.internal.mqtt.MqttClientConnectionConfig internal) {
                internal.getChannel().close();
            } else {
                client.disconnectWith()
                        .reasonCode(com.hivemq.client.mqtt.mqtt5.message.disconnect.Mqtt5DisconnectReasonCode.DISCONNECT_WITH_WILL_MESSAGE)
                        .send();
            }
        });
    }

    @Override
    public void close() {
        if (client.getState().isConnectedOrReconnect()) {
            up = false;
            client.disconnect().exceptionally(e -> null);
        }
    }

    /** The client's exceptions, turned into {@link RefusedException} where the broker answered with a reason code. */
    static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof Mqtt5MessageException m) {
            var msg = m.getMqttMessage();
            if (msg instanceof com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck ack) {
                return new RefusedException(ack.getReasonCode().getCode(), "CONNACK " + ack.getReasonCode());
            }
            if (msg instanceof com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAck ack
                    && !ack.getReasonCodes().isEmpty()) {
                return new RefusedException(ack.getReasonCodes().get(0).getCode(), "SUBACK " + ack.getReasonCodes().get(0));
            }
        }
        return c;
    }
}
