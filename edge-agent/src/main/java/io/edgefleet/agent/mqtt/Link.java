package io.edgefleet.agent.mqtt;

/**
 * What the agent's logic needs from its broker connection. {@link MqttSession} is the Paho
 * implementation; tests use an in-memory one.
 */
public interface Link {

    boolean isConnected();

    /**
     * Publishes a JSON message at QoS 1 without waiting. While disconnected the message is held in a
     * bounded in-memory queue and sent, in order, after the next connect.
     */
    void publish(String topic, byte[] json, boolean retained);

    /** Publishes at QoS 1 and waits for the broker's acknowledgement; false when it was not delivered. */
    boolean publishAndWait(String topic, byte[] json, boolean retained, long timeoutMs);

    /**
     * Publishes at QoS 1 without blocking: the future completes true at the broker's acknowledgement, false when
     * the message was not delivered (not connected, refused, connection lost). It may never complete if the broker
     * never answers; callers bound it with a timeout. This default waits on the calling thread.
     */
    default java.util.concurrent.CompletableFuture<Boolean> publishAsync(String topic, byte[] json, boolean retained) {
        return java.util.concurrent.CompletableFuture.completedFuture(publishAndWait(topic, json, retained, 10_000));
    }

    /** Subscribes at QoS 1 now (when connected) and again after every reconnect, until unsubscribed. */
    void subscribe(String filter);

    void unsubscribe(String filter);

    /**
     * Subscribes to several filters, in one SUBSCRIBE where the link can (the artifact download asks for
     * a window of chunk topics at a time). Same lifetime as {@link #subscribe(String)}.
     */
    default void subscribe(java.util.List<String> filters) {
        filters.forEach(this::subscribe);
    }

    /** Unsubscribes several filters, in one UNSUBSCRIBE where the link can. */
    default void unsubscribe(java.util.List<String> filters) {
        filters.forEach(this::unsubscribe);
    }
}
