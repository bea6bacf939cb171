package io.edgefleet.agent.testing;

import io.edgefleet.agent.mqtt.Link;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/** An in-memory broker connection that records what the agent publishes and subscribes. */
public final class FakeLink implements Link {
    public record Sent(String topic, byte[] payload, boolean retained) {
    }

    public volatile boolean connected = true;
    /** When set, acknowledged publishes fail even while "connected" (a broker that stopped acking). */
    public volatile boolean failAcks;
    public final List<Sent> sent = new CopyOnWriteArrayList<>();
    public final List<String> subscribeCalls = new CopyOnWriteArrayList<>();
    public final Set<String> subscriptions = new LinkedHashSet<>();
    /** Every SUBSCRIBE and UNSUBSCRIBE as the filters it carried, in order. */
    public final List<List<String>> subscribeBatches = new CopyOnWriteArrayList<>();
    public final List<List<String>> unsubscribeBatches = new CopyOnWriteArrayList<>();
    /**
     * When set, {@link #publishAsync} records the message and leaves its PUBACK pending in {@link #pendingAcks}
     * until the test completes it (true: acknowledged, false: not delivered), as a slow broker would.
     */
    public volatile boolean holdAcks;
    public final List<java.util.concurrent.CompletableFuture<Boolean>> pendingAcks = new CopyOnWriteArrayList<>();

    @Override
    public boolean isConnected() {
        return connected;
    }

    @Override
    public void publish(String topic, byte[] json, boolean retained) {
        sent.add(new Sent(topic, json, retained));
    }

    @Override
    public boolean publishAndWait(String topic, byte[] json, boolean retained, long timeoutMs) {
        if (!connected || failAcks) {
            return false;
        }
        sent.add(new Sent(topic, json, retained));
        return true;
    }

    @Override
    public java.util.concurrent.CompletableFuture<Boolean> publishAsync(String topic, byte[] json, boolean retained) {
        if (!holdAcks) {
            return java.util.concurrent.CompletableFuture.completedFuture(publishAndWait(topic, json, retained, 0));
        }
        if (!connected) {
            return java.util.concurrent.CompletableFuture.completedFuture(false);
        }
        sent.add(new Sent(topic, json, retained));
        java.util.concurrent.CompletableFuture<Boolean> ack = new java.util.concurrent.CompletableFuture<>();
        pendingAcks.add(ack);
        return ack;
    }

    @Override
    public synchronized void subscribe(String filter) {
        subscribeCalls.add(filter);
        subscriptions.add(filter);
    }

    @Override
    public synchronized void unsubscribe(String filter) {
        subscriptions.remove(filter);
    }

    @Override
    public synchronized void subscribe(List<String> filters) {
        subscribeBatches.add(List.copyOf(filters));
        filters.forEach(this::subscribe);
    }

    @Override
    public synchronized void unsubscribe(List<String> filters) {
        unsubscribeBatches.add(List.copyOf(filters));
        filters.forEach(this::unsubscribe);
    }

    public List<Sent> on(String topic) {
        List<Sent> out = new ArrayList<>();
        for (Sent s : sent) {
            if (s.topic().equals(topic)) {
                out.add(s);
            }
        }
        return out;
    }
}
