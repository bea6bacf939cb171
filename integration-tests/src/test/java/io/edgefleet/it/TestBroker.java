package io.edgefleet.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The MQTT broker of a test fleet: a real Mosquitto run from the project's own
 * {@code deploy/mosquitto/mosquitto.conf} when the binary is installed, otherwise the server's
 * embedded broker. {@code -Dedgefleet.it.broker=embedded} or {@code =mosquitto} forces one.
 */
public abstract class TestBroker implements AutoCloseable {

    /** The server's own MQTT login, when the test knows it (only with an external broker). */
    public record Login(String username, String password) {
    }

    /** System properties for the server process. */
    public abstract Map<String, String> serverProperties();

    /**
     * System properties for a second server replica. With Mosquitto each replica logs in as its own user: the
     * shipped config ties the client id to the user name, so two replicas sharing a login would take over each
     * other's session.
     */
    public Map<String, String> replicaServerProperties() {
        return serverProperties();
    }

    /** After devices were registered, rotated or revoked: make the broker accept exactly the server's current view. */
    public abstract void syncCredentials(Api api);

    public abstract Optional<Login> serverLogin();

    public abstract boolean isMosquitto();

    public abstract String description();

    @Override
    public abstract void close();

    public static TestBroker choose(String name) {
        String forced = System.getProperty("edgefleet.it.broker", "auto");
        Optional<Path> binary = findMosquitto();
        TestBroker broker = switch (forced) {
            case "embedded" -> new Embedded();
            case "mosquitto" -> MosquittoBroker.start(name, binary.orElseThrow(() ->
                    new IllegalStateException("-Dedgefleet.it.broker=mosquitto but no mosquitto binary found")));
            case "auto" -> binary.<TestBroker>map(b -> MosquittoBroker.start(name, b)).orElseGet(Embedded::new);
            default -> throw new IllegalArgumentException("edgefleet.it.broker must be auto, embedded or mosquitto, not " + forced);
        };
        Log.info("broker: " + broker.description());
        return broker;
    }

    /** The server's embedded broker regardless of {@code edgefleet.it.broker}, for tests that must cover both. */
    public static TestBroker embedded() {
        TestBroker b = new Embedded();
        Log.info("broker: " + b.description());
        return b;
    }

    public static boolean isMosquittoInstalled() {
        return findMosquitto().isPresent();
    }

    /** A Mosquitto broker regardless of {@code edgefleet.it.broker}, for tests of the shipped config itself. */
    public static TestBroker mosquitto(String name) {
        MosquittoBroker b = MosquittoBroker.start(name, findMosquitto().orElseThrow(() ->
                new IllegalStateException("mosquitto is not installed")));
        Log.info("broker: " + b.description());
        return b;
    }

    static Optional<Path> findMosquitto() {
        Path sbin = Path.of("/usr/sbin/mosquitto");
        if (Files.isExecutable(sbin)) {
            return Optional.of(sbin);
        }
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(java.io.File.pathSeparator))
                .filter(s -> !s.isBlank())
                .map(dir -> Path.of(dir, "mosquitto"))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /** The server starts Moquette in-process on a free port; devices are checked against the server's own store. */
    static final class Embedded extends TestBroker {
        @Override
        public Map<String, String> serverProperties() {
            return Map.of("edgefleet.mqtt.embedded.host", "127.0.0.1", "edgefleet.mqtt.embedded.port", "0");
        }

        @Override
        public void syncCredentials(Api api) {
            // The embedded broker authenticates against the server's database directly.
        }

        @Override
        public Optional<Login> serverLogin() {
            return Optional.empty();
        }

        @Override
        public boolean isMosquitto() {
            return false;
        }

        @Override
        public String description() {
            return "the server's embedded broker (Moquette; no mosquitto binary used)";
        }

        @Override
        public void close() {
        }
    }
}
