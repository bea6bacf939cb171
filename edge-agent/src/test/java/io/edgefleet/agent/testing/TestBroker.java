package io.edgefleet.agent.testing;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An in-process MQTT 5 broker (Moquette) on a free port, restartable on the same port. It records every PUBLISH
 * it accepts from a client ({@link #published()}), across restarts: what an agent delivered to the broker, whether
 * or not a subscriber was there to receive it (a test client that re-subscribes after a restart races the agent's
 * reconnect).
 */
public final class TestBroker implements AutoCloseable {
    /** One PUBLISH as the broker accepted it. */
    public record Published(String clientId, String topic, byte[] payload) {
    }

    private final int port;
    private final List<Published> published = new CopyOnWriteArrayList<>();
    private final List<Throwable> loopErrors = new CopyOnWriteArrayList<>();
    private Server server;

    public TestBroker() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        start();
    }

    public void start() throws IOException {
        Properties p = new Properties();
        p.setProperty("host", "127.0.0.1");
        p.setProperty("port", Integer.toString(port));
        p.setProperty("websocket_port", "disabled");
        p.setProperty("allow_anonymous", "true");
        p.setProperty("persistence_enabled", "false");
        p.setProperty("telemetry_enabled", "false");
        p.setProperty("netty.mqtt.message_size", Integer.toString(1024 * 1024));
        server = new Server();
        server.startServer(new MemoryConfig(p), List.of(new Recorder()));
    }

    public void stop() {
        if (server != null) {
            server.stopServer();
            server = null;
        }
    }

    /** Closes one client's connection from the broker's side, keeping its session; false if it was not connected. */
    public boolean disconnect(String clientId) {
        return server.disconnectClient(clientId);
    }

    /**
     * Whether the broker still counts this client as connected. A client's DISCONNECT can still be in Moquette's
     * hands after the client has stopped; a new connection with the same id in that window can have its session's
     * connection cleared under it (an NPE in {@code Session.resendInflightNotAcked} that kills the session loop, seen
     * once in a .ci/run of session 14), so a test that restarts a client waits for this to be false first.
     */
    public boolean connected(String clientId) {
        return server.listConnectedClients().stream().anyMatch(c -> clientId.equals(c.getClientID()));
    }

    /** What made a Moquette session loop die, if anything did (see {@link Recorder#onSessionLoopError}). */
    public List<Throwable> loopErrors() {
        return List.copyOf(loopErrors);
    }

    /** Every PUBLISH the broker accepted from a client since this broker was created, in arrival order. */
    public List<Published> published() {
        return List.copyOf(published);
    }

    private final class Recorder extends io.moquette.interception.AbstractInterceptHandler {
        @Override
        public String getID() {
            return "test-broker-recorder";
        }

        @Override
        public void onPublish(io.moquette.interception.messages.InterceptPublishMessage msg) {
            published.add(new Published(msg.getClientID(), msg.getTopicName(),
                    io.netty.buffer.ByteBufUtil.getBytes(msg.getPayload())));
            // Moquette hands each interceptor its own reference to the payload; the base class releases it. Without
            // this every PUBLISH leaked a pooled buffer (Netty's "LEAK: ByteBuf.release() was not called").
            super.onPublish(msg);
        }

        /**
         * A task of one of Moquette's session loops threw: that loop thread ends, and the clients whose sessions it
         * served stop being answered. Moquette logs it through SLF4J, which has no binding in these tests, so it is
         * printed here: a test client that loses its connection can be traced to it.
         */
        @Override
        public void onSessionLoopError(Throwable error) {
            loopErrors.add(error);
            System.err.println("TestBroker: a Moquette session loop died: " + error);
            error.printStackTrace();
        }
    }

    public String url() {
        return "tcp://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        stop();
    }
}
