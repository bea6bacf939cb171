package io.edgefleet.server.mqtt;

import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.security.CredentialsChanged;
import io.edgefleet.server.security.DeviceCredentials;
import io.edgefleet.server.security.Secrets;
import io.moquette.BrokerConstants;
import io.moquette.broker.Server;
import io.moquette.broker.config.IConfig;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.broker.security.IAuthenticator;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import io.moquette.interception.AbstractInterceptHandler;
import io.moquette.interception.messages.InterceptConnectionLostMessage;
import io.moquette.interception.messages.InterceptDisconnectMessage;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The in-process MQTT 5 broker (Moquette), started when no external broker is configured.
 * Devices authenticate with their registered credential and are confined to their own topics by
 * {@link DeviceTopicPolicy}; the server's own client uses a random credential made at start.
 * State is in memory: retained artifacts are republished by the gateway after every connect.
 */
@ApplicationScoped
public class EmbeddedBroker {
    private static final Logger LOG = Logger.getLogger(EmbeddedBroker.class);
    /** The server's own broker user on the embedded broker. */
    public static final String SERVER_USER = "edgefleet-server";

    @Inject
    EdgefleetConfig config;

    @Inject
    DeviceCredentials credentials;

    private final String serverPassword = Secrets.randomToken();
    /** username -> client ids currently connected with it, so a revoked device can be cut off. */
    private final ConcurrentHashMap<String, Set<String>> clientsByUser = new ConcurrentHashMap<>();
    private volatile Server server;
    private volatile int port = -1;

    void onStart(@Observes @Priority(100) StartupEvent event) {
        if (isEnabled()) {
            start();
        }
    }

    void onStop(@Observes @Priority(900) ShutdownEvent event) {
        stop();
    }

    public boolean isEnabled() {
        return config.mqtt().url().map(String::isBlank).orElse(true);
    }

    public synchronized void start() {
        if (server != null) {
            return;
        }
        String host = config.mqtt().embedded().host();
        int requested = config.mqtt().embedded().port();
        // Moquette reports the configured port, not the bound one, so port 0 is resolved here: take a
        // free port from the OS and bind it right away (retrying if something grabs it in between).
        int attempts = requested == 0 ? 5 : 1;
        Server s = null;
        int chosen = requested;
        for (int attempt = 1; s == null; attempt++) {
            Server candidate = new Server();
            try {
                chosen = requested == 0 ? freePort(host) : requested;
                candidate.startServer(brokerConfig(host, chosen), List.of(new SessionTracker()), null,
                        new Authenticator(), new Authorizer());
                if (!listening(host, chosen)) {
                    candidate.stopServer();
                    throw new IOException("the broker did not start listening on port " + chosen);
                }
                s = candidate;
            } catch (IOException | RuntimeException e) {
                if (attempt >= attempts) {
                    throw new IllegalStateException("cannot start the embedded MQTT broker on " + host + ":" + chosen
                            + " (is the port in use? edgefleet.mqtt.embedded.port=0 picks a free one): " + e.getMessage(), e);
                }
                LOG.debugf("embedded broker could not bind %s:%d (%s); trying another port", host, chosen, e.getMessage());
            }
        }
        server = s;
        port = chosen;
        LOG.infof("Embedded MQTT broker listening on tcp://%s:%d", host, port);
    }

    public synchronized void stop() {
        if (server != null) {
            server.stopServer();
            server = null;
            clientsByUser.clear();
        }
    }

    /** The bound TCP port (resolved when port 0 was configured). */
    public int port() {
        if (server == null) {
            throw new IllegalStateException("the embedded broker is not running");
        }
        return port;
    }

    public String serverPassword() {
        return serverPassword;
    }

    public boolean isRunning() {
        return server != null;
    }

    /** Cuts off every session a device holds once its credential is rotated or revoked. */
    void onCredentialsChanged(@Observes(during = TransactionPhase.AFTER_SUCCESS) CredentialsChanged event) {
        Server s = server;
        Set<String> clients = clientsByUser.remove(event.deviceId());
        LOG.infof("Credential of device %s %s; %d open session(s) to close", event.deviceId(),
                event.revoked() ? "revoked" : "rotated", clients == null ? 0 : clients.size());
        if (s == null || clients == null) {
            return;
        }
        for (String clientId : clients) {
            if (s.disconnectClient(clientId)) {
                LOG.infof("Disconnected client %s of device %s (credential %s)", clientId, event.deviceId(),
                        event.revoked() ? "revoked" : "rotated");
            }
        }
    }

    private static int freePort(String host) throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return socket.getLocalPort();
        }
    }

    private static boolean listening(String host, int port) {
        String target = switch (host) {
            case "0.0.0.0", "::", "" -> "127.0.0.1";
            default -> host;
        };
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(target, port), 2_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private IConfig brokerConfig(String host, int requestedPort) {
        Properties p = new Properties();
        p.setProperty(IConfig.HOST_PROPERTY_NAME, host);
        p.setProperty(IConfig.PORT_PROPERTY_NAME, String.valueOf(requestedPort));
        p.setProperty(IConfig.WEB_SOCKET_PORT_PROPERTY_NAME, BrokerConstants.DISABLED_PORT_BIND);
        p.setProperty(IConfig.ALLOW_ANONYMOUS_PROPERTY_NAME, "false");
        p.setProperty(IConfig.PERSISTENCE_ENABLED_PROPERTY_NAME, "false");
        // Moquette reports usage to its authors unless told otherwise.
        p.setProperty(IConfig.ENABLE_TELEMETRY_NAME, "false");
        // The default (8 KiB) is far below an artifact chunk; allow the largest chunk a manifest may declare.
        int maxMessage = Math.max(ArtifactManifest.MAX_CHUNK, Protocol.DEFAULT_MAX_JSON_BYTES) + 64 * 1024;
        p.setProperty(IConfig.NETTY_MAX_BYTES_PROPERTY_NAME, String.valueOf(maxMessage));
        p.setProperty(IConfig.SESSION_QUEUE_SIZE, "4096");
        p.setProperty(BrokerConstants.REAUTHORIZE_SUBSCRIPTIONS_ON_CONNECT, "true");
        return new MemoryConfig(p);
    }

    private final class Authenticator implements IAuthenticator {
        @Override
        public boolean checkValid(String clientId, String username, byte[] password) {
            if (username == null || password == null) {
                return false;
            }
            if (SERVER_USER.equals(username)) {
                return MessageDigest.isEqual(serverPassword.getBytes(StandardCharsets.UTF_8), password);
            }
            boolean ok = credentials.authenticate(username, password);
            if (ok) {
                // Recorded here, synchronously before the CONNACK, so a revocation right after connecting
                // still finds the session; Moquette's connect interceptor runs later on another thread.
                track(username, clientId);
            }
            return ok;
        }
    }

    private final class Authorizer implements IAuthorizatorPolicy {
        @Override
        public boolean canWrite(Topic topic, String user, String client) {
            if (SERVER_USER.equals(user)) {
                return true;
            }
            return user != null && credentials.activeClassOf(user).isPresent()
                    && DeviceTopicPolicy.canPublish(user, topic.toString());
        }

        @Override
        public boolean canRead(Topic topic, String user, String client) {
            if (SERVER_USER.equals(user)) {
                return true;
            }
            if (user == null) {
                return false;
            }
            String classId = credentials.activeClassOf(user).orElse(null);
            return classId != null
                    && DeviceTopicPolicy.canSubscribe(user, classId, DeviceTopicPolicy.withoutSharePrefix(topic.toString()));
        }
    }

    private void track(String username, String clientId) {
        clientsByUser.computeIfAbsent(username, u -> ConcurrentHashMap.newKeySet()).add(clientId);
    }

    /** Forgets sessions as they end, so the map holds only live ones. */
    private final class SessionTracker extends AbstractInterceptHandler {
        @Override
        public String getID() {
            return "edgefleet-session-tracker";
        }


        @Override
        public void onDisconnect(InterceptDisconnectMessage msg) {
            forget(msg.getUsername(), msg.getClientID());
        }

        @Override
        public void onConnectionLost(InterceptConnectionLostMessage msg) {
            forget(msg.getUsername(), msg.getClientID());
        }

        @Override
        public void onSessionLoopError(Throwable error) {
            LOG.warnf("embedded broker session loop error: %s", error.toString());
        }

        private void forget(String username, String clientId) {
            if (username != null) {
                clientsByUser.computeIfPresent(username, (u, set) -> {
                    set.remove(clientId);
                    return set.isEmpty() ? null : set;
                });
            }
        }
    }
}
