package io.edgefleet.it.deploy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.agent.mqtt.HiveMqTransport;
import io.edgefleet.agent.mqtt.MqttSession;
import io.edgefleet.agent.mqtt.MqttTransport;
import io.edgefleet.agent.mqtt.PahoTransport;
import io.edgefleet.agent.mqtt.PinnedCa;
import io.edgefleet.it.Await;
import io.edgefleet.it.Log;
import io.edgefleet.it.MosquittoBroker;
import io.edgefleet.it.Net;
import io.edgefleet.it.Repo;
import io.edgefleet.it.TestBroker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Promise 6 over TLS: Mosquitto runs the shipped configuration with its commented TLS listener lines
 * switched on (certificate from a throw-away CA made here with openssl), and the agent's MQTT session
 * connects over {@code ssl://} trusting only that CA; pinned to another CA it does not connect.
 */
class TlsBrokerIT {
    static final String USER = "dev-tls";
    static final String PASSWORD = "tls-secret-" + System.nanoTime();
    static Path dir;
    static Process broker;
    static int tlsPort;

    @BeforeAll
    static void startBroker() throws Exception {
        Path openssl = Path.of("/usr/bin/openssl");
        assumeTrue(TestBroker.isMosquittoInstalled() && Files.isExecutable(openssl), "needs mosquitto and openssl");
        dir = Files.createTempDirectory("edgefleet-tls-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path tls = Files.createDirectories(dir.resolve("tls"));
        Files.setPosixFilePermissions(tls, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(dir.resolve("data"));
        Files.setPosixFilePermissions(dir.resolve("data"), PosixFilePermissions.fromString("rwxrwxrwx"));
        ca(tls, "ca", "edgefleet-test-ca");
        ca(tls, "stranger", "someone-elses-ca");
        run(tls, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                "-subj", "/CN=localhost");
        Files.writeString(tls.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        run(tls, "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.crt", "-days", "2", "-extfile", "san.ext");
        try (Stream<Path> files = Files.list(tls)) {
            for (Path f : files.toList()) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
            }
        }

        int plainPort = Net.freePort();
        tlsPort = Net.freePort();
        String conf = Files.readString(Repo.mosquittoConf(), StandardCharsets.UTF_8)
                .replaceFirst("(?m)^listener 1883$", "listener " + plainPort + " 127.0.0.1")
                .replaceFirst("(?m)^#listener 8883$", "listener " + tlsPort + " 127.0.0.1")
                .replaceFirst("(?m)^#certfile ", "certfile ")
                .replaceFirst("(?m)^#keyfile ", "keyfile ")
                .replaceFirst("(?m)^#cafile ", "cafile ")
                .replaceFirst("(?m)^#tls_version ", "tls_version ");
        assertTrue(conf.contains("listener " + tlsPort) && conf.contains("\ncertfile tls/server.crt"),
                "deploy/mosquitto/mosquitto.conf must keep its commented TLS lines");
        Files.writeString(dir.resolve("mosquitto.conf"), conf);
        run(dir, "/usr/bin/mosquitto_passwd", "-b", "-c", "passwd", USER, PASSWORD);
        Files.writeString(dir.resolve("acl"), "user " + USER + "\ntopic readwrite edgefleet/v1/devices/" + USER + "/#\n");
        for (String f : List.of("mosquitto.conf", "passwd", "acl")) {
            Files.setPosixFilePermissions(dir.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
        }
        broker = new ProcessBuilder("/usr/sbin/mosquitto", "-c", "mosquitto.conf").directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(Repo.buildDir().resolve("mosquitto-tls.log").toFile()).start();
        Await.until(Duration.ofSeconds(10), "mosquitto TLS listener", () -> Net.accepts("127.0.0.1", tlsPort, 200));
        Log.info("mosquitto with TLS on " + tlsPort + " (" + dir + ")");
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.destroy();
            broker.waitFor(10, TimeUnit.SECONDS);
        }
        if (dir != null) {
            MosquittoBroker.deleteTree(dir);
        }
    }

    /** Paho gets the pinned CA as a socket factory (as before) and HiveMQ as the CA file, the agent's {@code mqttCaFile}. */
    private static MqttSession session(Path ca, MqttTransport.Kind client) {
        MqttSession.Settings settings = client == MqttTransport.Kind.PAHO
                ? new MqttSession.Settings("ssl://127.0.0.1:" + tlsPort, USER, USER, PASSWORD, 0, null, null,
                        PinnedCa.socketFactory(ca))
                : new MqttSession.Settings("ssl://127.0.0.1:" + tlsPort, USER, USER, PASSWORD, 0, null, null, null, ca);
        MqttTransport.Factory transports = client == MqttTransport.Kind.PAHO ? PahoTransport.factory() : HiveMqTransport.factory();
        return new MqttSession(settings, new MqttSession.Handler() {
            @Override
            public void onMessage(String topic, byte[] payload) {
            }

            @Override
            public void onConnected(boolean reconnect) {
            }

            @Override
            public void onConnectionLost(String reason) {
            }
        }, transports, null);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(MqttTransport.Kind.class)
    void theAgentConnectsOverTlsOnlyToABrokerItsPinnedCaVouchesFor(MqttTransport.Kind client) throws Exception {
        try (MqttSession pinned = session(dir.resolve("tls/ca.crt"), client)) {
            pinned.start();
            Await.until(Duration.ofSeconds(30), "TLS session with the pinned CA", pinned::isConnected);
            assertTrue(pinned.publishAndWait("edgefleet/v1/devices/" + USER + "/status", "{}".getBytes(StandardCharsets.UTF_8),
                    false, 5000), "a publish over TLS is acknowledged");
        }
        try (MqttSession wrongCa = session(dir.resolve("tls/stranger.crt"), client)) {
            wrongCa.start();
            Thread.sleep(4000);
            assertFalse(wrongCa.isConnected(), "a broker certificate from another CA is refused");
        }
    }

    private static void ca(Path tls, String name, String cn) throws IOException, InterruptedException {
        run(tls, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".crt",
                "-days", "2", "-subj", "/CN=" + cn);
    }

    private static void run(Path cwd, String... cmd) throws IOException, InterruptedException {
        List<String> c = new ArrayList<>(List.of(cmd));
        Process p = new ProcessBuilder(c).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
