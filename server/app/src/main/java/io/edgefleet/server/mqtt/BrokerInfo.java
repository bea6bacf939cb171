package io.edgefleet.server.mqtt;

import io.edgefleet.server.config.EdgefleetConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** Where the broker is: the URL the server connects to, the URL devices are told, and the server's user. */
@ApplicationScoped
public class BrokerInfo {

    @Inject
    EdgefleetConfig config;

    @Inject
    EmbeddedBroker embeddedBroker;

    @Inject
    ServerLogins serverLogins;

    public boolean embedded() {
        return embeddedBroker.isEnabled();
    }

    /** The URL the server's own client connects to. */
    public String connectUrl() {
        if (embedded()) {
            return "tcp://" + localHost(config.mqtt().embedded().host()) + ":" + embeddedBroker.port();
        }
        return config.mqtt().url().orElseThrow().trim();
    }

    /** The URL devices are told to use: configured, else the connect URL. */
    public String advertisedUrl() {
        return config.mqtt().advertisedUrl().map(String::trim).filter(s -> !s.isEmpty()).orElseGet(() -> {
            if (embedded() && !embeddedBroker.isRunning()) {
                return null;
            }
            return connectUrl();
        });
    }

    public String serverUsername() {
        return embedded() ? EmbeddedBroker.SERVER_USER : config.mqtt().username().orElse(null);
    }

    public String serverPassword() {
        return embedded() ? embeddedBroker.serverPassword() : config.mqtt().password().orElse(null);
    }

    /** Broker user names a device may not take, or it could act as the server (any replica's user too). Call inside a transaction. */
    public boolean isReservedUsername(String id) {
        return EmbeddedBroker.SERVER_USER.equals(id)
                || config.mqtt().username().map(String::trim).filter(id::equals).isPresent()
                || serverLogins.contains(id);
    }

    /** Which of {@code ids} {@link #isReservedUsername are reserved}, with one database query for all of them. */
    public java.util.Set<String> reservedAmong(java.util.Collection<String> ids) {
        java.util.Set<String> out = new java.util.HashSet<>(serverLogins.among(ids));
        for (String id : ids) {
            if (EmbeddedBroker.SERVER_USER.equals(id) || config.mqtt().username().map(String::trim).filter(id::equals).isPresent()) {
                out.add(id);
            }
        }
        return out;
    }

    /** A wildcard bind address is not something to connect to; use loopback for the server's own client. */
    private static String localHost(String bindHost) {
        return switch (bindHost) {
            case "0.0.0.0", "::", "[::]", "" -> "127.0.0.1";
            default -> bindHost.contains(":") && !bindHost.startsWith("[") ? "[" + bindHost + "]" : bindHost;
        };
    }
}
