package io.edgefleet.server.mqtt;

import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.server.config.DataDir;
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
import java.nio.file.Files;
import java.nio.file.Path;
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
 *
 * <p>The port stays: with port 0 configured the broker picks a free port once and stores it in the
 * data directory ({@value #PORT_FILE}); every later start binds that port again, because devices were
 * told the URL at registration and reconnect only to it. A device may use only its own user name as
 * its MQTT client id, so no device can take over another device's session.
 */
@ApplicationScoped
public class EmbeddedBroker {
    private static final Logger LOG = Logger.getLogger(EmbeddedBroker.class);
    /** The server's own broker user on the embedded broker. */
    public static final String SERVER_USER = "edgefleet-server";
    /** The port chosen on the first start with port 0, in the data directory. */
    public static final String PORT_FILE = "mqtt-embedded-port";
    /** How long a start waits for the stored port to be released (e.g. by a process that just died). */
    private static final long STORED_PORT_WAIT_MS = 15_000;

    @Inject
    EdgefleetConfig config;

    @Inject
    DeviceCredentials credentials;

    @Inject
    DataDir dataDir;

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
        int configured = config.mqtt().embedded().port();
        Path portFile = dataDir.resolve(PORT_FILE);
        int stored = configured == 0 ? storedPort(portFile) : 0;
        int requested = configured != 0 ? configured : stored;
        // Moquette reports the configured port, not the bound one, so port 0 is resolved here: take a
        // free port from the OS and bind it right away (retrying if something grabs it in between).
        // A known port (configured or stored) is retried for a while instead: the previous server
        // process may still be releasing it, and moving would strand every device that knows the URL.
        long deadline = System.currentTimeMillis() + (requested != 0 ? STORED_PORT_WAIT_MS : 0);
        int attempts = requested == 0 ? 5 : Integer.MAX_VALUE;
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
                if (attempt >= attempts || (requested != 0 && System.currentTimeMillis() >= deadline)) {
                    String hint = stored != 0
                            ? " (the port was chosen on the first start and stored in " + portFile + ", because devices"
                            + " were told it; free it, or set edgefleet.mqtt.embedded.port, or delete the file to pick a"
                            + " new port and re-provision the devices)"
                            : " (is the port in use? edgefleet.mqtt.embedded.port=0 picks a free one)";
                    throw new IllegalStateException("cannot start the embedded MQTT broker on " + host + ":" + chosen
                            + hint + ": " + e.getMessage(), e);
                }
                LOG.debugf("embedded broker could not bind %s:%d (%s); %s", host, chosen, e.getMessage(),
                        requested == 0 ? "trying another port" : "retrying");
                if (requested != 0) {
                    sleepQuietly(500);
                }
            }
        }
        server = s;
        port = chosen;
        if (configured == 0 && stored != chosen) {
            try {
                Files.writeString(portFile, chosen + "\n", StandardCharsets.UTF_8);
            } catch (IOException e) {
                LOG.warnf("cannot store the embedded broker port in %s (%s); the next start picks a new port and"
                        + " devices registered now will not find the broker", portFile, e.getMessage());
            }
        }
        LOG.infof("Embedded MQTT broker listening on tcp://%s:%d%s", host, port,
                stored != 0 ? " (port kept from " + portFile + ")" : "");
    }

    private static int storedPort(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                return 0;
            }
            int p = Integer.parseInt(Files.readString(file, StandardCharsets.UTF_8).trim());
            if (p < 1 || p > 65535) {
                throw new NumberFormatException("out of range");
            }
            return p;
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException(file + " does not hold a TCP port (" + e.getMessage() + "); fix or delete it", e);
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
            // Identity is the credential: a device connects only under its own id, so it cannot take over
            // (and kick off) another device's session by presenting that device's client id.
            if (!username.equals(clientId)) {
                LOG.debugf("refused device %s connecting with client id %s (must equal the user name)", username, clientId);
                return false;
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
