package io.edgefleet.it.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.it.MosquittoBroker;
import io.edgefleet.it.RawMqtt;
import io.edgefleet.it.Repo;
import io.edgefleet.it.TestBroker;
import io.edgefleet.protocol.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shipped broker configuration, enforced by a real Mosquitto: deploy/mosquitto/mosquitto.conf
 * with the example password file and ACL (whose example passwords are documented in passwd.example).
 * Promise 6: a device reaches only its own topics and its own class's artifacts.
 */
class MosquittoConfigIT {
    private static final String SERVER = "edgefleet-server";
    private static final String SERVER_PW = "example-server-password";
    private static final String GW = "gw-0001";
    private static final String GW_PW = "example-gw-0001-password";
    private static final String CAM = "cam-0001";
    private static final String SHA = "ab".repeat(32);

    private static final String CAM_PW = "example-cam-0001-password";
    private static final java.util.List<String> WILDCARD_USERS = java.util.List.of("+", "#", "cam-0001/+");
    private static final String WILDCARD_PW = "wildcard-user-password";

    private static MosquittoBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        assumeTrue(TestBroker.isMosquittoInstalled(), "mosquitto is not installed; the shipped config is not exercised");
        broker = (MosquittoBroker) TestBroker.mosquitto("config");
        // Besides the examples' users, logins whose names are topic wildcards: the ACL's %u patterns must not
        // widen their access (no device can be named so, but the broker must hold the line on its own too).
        Path extra = Files.createTempFile(broker.dir(), ".wild", ".passwd");
        StringBuilder plain = new StringBuilder();
        for (String user : WILDCARD_USERS) {
            plain.append(user).append(':').append(WILDCARD_PW).append('\n');
        }
        Files.writeString(extra, plain);
        Process hash = new ProcessBuilder("mosquitto_passwd", "-U", extra.toString()).redirectErrorStream(true).start();
        String out = new String(hash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, hash.waitFor(), "mosquitto_passwd -U: " + out);
        String passwd = Files.readString(Repo.root().resolve("deploy/mosquitto/passwd.example"));
        passwd = (passwd.endsWith("\n") ? passwd : passwd + "\n") + Files.readString(extra);
        Files.delete(extra);
        broker.installCredentials(passwd, Files.readString(Repo.root().resolve("deploy/mosquitto/acl.example")));
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void anonymousAndWrongPasswordsAreRefused() {
        MqttException anonymous = assertThrows(MqttException.class, () -> RawMqtt.connect(broker.url(), null, null).close());
        assertTrue(anonymous.getReasonCode() == 135 || anonymous.getReasonCode() == 134,
                "anonymous login must be refused as not authorized / bad credentials, got " + anonymous.getReasonCode());
        MqttException wrong = assertThrows(MqttException.class, () -> RawMqtt.connect(broker.url(), GW, "not-the-password").close());
        assertTrue(wrong.getReasonCode() == 135 || wrong.getReasonCode() == 134, "got " + wrong.getReasonCode());
    }

    @Test
    void deviceTelemetryReachesTheServerThroughASharedSubscription() throws Exception {
        try (RawMqtt server = RawMqtt.connect(broker.url(), SERVER, SERVER_PW);
             RawMqtt gw = RawMqtt.connect(broker.url(), GW, GW_PW)) {
            assertEquals(1, server.subscribe(Topics.shared(Topics.allDevices(Topics.Kind.TELEMETRY)), 1));
            assertTrue(RawMqtt.accepted(gw.publish(Topics.telemetry(GW), bytes("{\"n\":1}"), 1, false)));
            RawMqtt.Received got = server.await(r -> r.topic().equals(Topics.telemetry(GW)), Duration.ofSeconds(5))
                    .orElseThrow(() -> new AssertionError("server did not receive the device's telemetry"));
            assertEquals("{\"n\":1}", got.text());
        }
    }

    @Test
    void aDeviceCannotSpeakForAnotherDevice() throws Exception {
        try (RawMqtt server = RawMqtt.connect(broker.url(), SERVER, SERVER_PW);
             RawMqtt gw = RawMqtt.connect(broker.url(), GW, GW_PW)) {
            server.subscribe(Topics.allDevices(Topics.Kind.TELEMETRY), 1);
            assertEquals(0x87, gw.publish(Topics.telemetry(CAM), bytes("{\"spoof\":true}"), 1, false),
                    "publishing on another device's telemetry must be refused with 'not authorized'");
            assertEquals(0x87, gw.publish(Topics.cmd(GW), bytes("{}"), 1, false),
                    "a device must not write its own command topic");
            assertTrue(server.await(r -> true, Duration.ofMillis(700)).isEmpty(), "a refused publish must not be delivered");
        }
    }

    @Test
    void aDeviceReadsOnlyItsOwnCommandsAndItsOwnClassArtifacts() throws Exception {
        String otherClassManifest = Topics.manifest("camera-arm64", SHA);
        String ownClassManifest = Topics.manifest("edge-gateway", SHA);
        try (RawMqtt gw = RawMqtt.connect(broker.url(), GW, GW_PW);
             RawMqtt server = RawMqtt.connect(broker.url(), SERVER, SERVER_PW)) {
            assertEquals(1, gw.subscribe(Topics.cmd(GW), 1));
            assertEquals(1, gw.subscribe(Topics.artifactFilter("edge-gateway", SHA), 1));
            // Mosquitto may grant a forbidden subscription and filter at delivery instead; what matters is
            // that nothing is delivered, so subscribe and then check what arrives.
            gw.subscribe(Topics.cmd(CAM), 1);
            gw.subscribe(Topics.artifactFilter("camera-arm64", SHA), 1);
            gw.subscribe(Topics.allDevices(Topics.Kind.TELEMETRY), 1);
            gw.subscribe("edgefleet/#", 1);

            server.publish(Topics.cmd(CAM), bytes("cam-cmd"), 1, false);
            server.publish(otherClassManifest, bytes("cam-manifest"), 1, false);
            server.publish(Topics.telemetry(CAM), bytes("cam-telemetry"), 1, false);
            server.publish(Topics.cmd(GW), bytes("gw-cmd"), 1, false);
            server.publish(ownClassManifest, bytes("gw-manifest"), 1, false);

            java.util.Set<String> got = new java.util.TreeSet<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < deadline) {
                gw.await(r -> true, Duration.ofMillis(200)).ifPresent(r -> got.add(r.text()));
            }
            assertEquals(java.util.Set.of("gw-cmd", "gw-manifest"), got,
                    "the device must receive its own command and its class's artifact, nothing else");
        }
    }

    @Test
    void eachDeviceWritesAllItsOwnTopicsThroughThePatternsAndNoneOfAnothers() throws Exception {
        try (RawMqtt server = RawMqtt.connect(broker.url(), SERVER, SERVER_PW);
             RawMqtt gw = RawMqtt.connect(broker.url(), GW, GW_PW);
             RawMqtt cam = RawMqtt.connect(broker.url(), CAM, CAM_PW)) {
            server.subscribe(Topics.ROOT + "/devices/#", 1);
            for (String device : java.util.List.of(GW, CAM)) {
                RawMqtt client = device.equals(GW) ? gw : cam;
                String other = device.equals(GW) ? CAM : GW;
                for (String own : java.util.List.of(Topics.status(device), Topics.events(device), Topics.telemetry(device),
                        Topics.benchmark(device), Topics.capture(device))) {
                    assertTrue(RawMqtt.accepted(client.publish(own, bytes(own), 1, false)), device + " writes " + own);
                    RawMqtt.Received got = server.await(r -> r.topic().equals(own), Duration.ofSeconds(5))
                            .orElseThrow(() -> new AssertionError("the server did not receive " + own));
                    assertEquals(own, got.text());
                }
                for (String foreign : java.util.List.of(Topics.status(other), Topics.events(other), Topics.telemetry(other),
                        Topics.benchmark(other), Topics.capture(other), Topics.cmd(other), Topics.ack(other),
                        Topics.ack(device))) {
                    assertEquals(0x87, client.publish(foreign, bytes("spoof"), 1, false), device + " must not write " + foreign);
                }
            }
            assertTrue(server.await(r -> r.text().equals("spoof"), Duration.ofMillis(700)).isEmpty(),
                    "a refused publish must not be delivered");
        }
    }

    @Test
    void theServerStillReadsAndWritesEveryDevicesTopics() throws Exception {
        try (RawMqtt server = RawMqtt.connect(broker.url(), SERVER, SERVER_PW);
             RawMqtt gw = RawMqtt.connect(broker.url(), GW, GW_PW)) {
            assertEquals(1, server.subscribe(Topics.allDevices(Topics.Kind.STATUS), 1));
            assertEquals(1, gw.subscribe(Topics.ack(GW), 1));
            // writes beyond any device's own topics: a device's command and ack, another class's artifacts
            assertTrue(RawMqtt.accepted(server.publish(Topics.ack(GW), bytes("ack"), 1, false)));
            assertTrue(RawMqtt.accepted(server.publish(Topics.manifest("camera-arm64", SHA), new byte[0], 1, true)));
            assertTrue(gw.await(r -> r.text().equals("ack"), Duration.ofSeconds(5)).isPresent());
            assertTrue(RawMqtt.accepted(gw.publish(Topics.status(GW), bytes("{\"online\":true}"), 1, false)));
            assertTrue(server.await(r -> r.topic().equals(Topics.status(GW)), Duration.ofSeconds(5)).isPresent(),
                    "the server reads every device's status");
        }
    }

    @Test
    void aLoginNamedLikeAWildcardGetsNothingFromTheDevicePatterns() throws Exception {
        try (RawMqtt server = RawMqtt.connect(broker.url(), SERVER, SERVER_PW)) {
            server.subscribe(Topics.allDevices(Topics.Kind.TELEMETRY), 1);
            int loggedIn = 0;
            for (String user : WILDCARD_USERS) {
                RawMqtt login;
                try {
                    login = RawMqtt.connect(broker.url(), user, WILDCARD_PW);
                } catch (MqttException refused) {
                    // Mosquitto 2.0.11 refuses some such names at login already ("#": not authorised)
                    assertEquals(0x87, refused.getReasonCode(), user + ": " + refused.getMessage());
                    continue;
                }
                loggedIn++;
                try (RawMqtt wild = login) {
                    // %u = "+" would make "edgefleet/v1/devices/+/telemetry" etc.: every device's topics
                    try {
                        assertEquals(0x87, wild.publish(Topics.telemetry(CAM), bytes("wild-telemetry"), 1, false), user);
                    } catch (MqttException refused) {
                        assertEquals(0x87, refused.getReasonCode(), user + ": " + refused.getMessage());
                    }
                    subscribeOrRefused(wild, Topics.cmd(CAM));
                    subscribeOrRefused(wild, Topics.allDevices(Topics.Kind.CMD));
                    server.publish(Topics.cmd(CAM), bytes("cam-cmd-for-" + user), 1, false);
                    assertTrue(wild.await(r -> true, Duration.ofSeconds(1)).isEmpty(),
                            user + " must not read a device's commands");
                }
            }
            assertTrue(loggedIn > 0, "no wildcard login got in, so nothing about the patterns was checked");
            assertTrue(server.await(r -> r.text().equals("wild-telemetry"), Duration.ofMillis(500)).isEmpty());
        }
    }

    @Test
    void a64KiBArtifactChunkIsRetainedAndDeliveredButAnOversizedPacketIsRefused() throws Exception {
        byte[] chunk = new byte[64 * 1024];
        Arrays.fill(chunk, (byte) 7);
        String topic = Topics.chunk("edge-gateway", SHA, 0);
        try (RawMqtt server = RawMqtt.connect(broker.url(), SERVER, SERVER_PW)) {
            assertTrue(RawMqtt.accepted(server.publish(topic, chunk, 1, true)));
        }
        try (RawMqtt gw = RawMqtt.connect(broker.url(), GW, GW_PW)) {
            gw.subscribe(Topics.artifactFilter("edge-gateway", SHA), 1);
            RawMqtt.Received got = gw.await(r -> r.topic().equals(topic), Duration.ofSeconds(5))
                    .orElseThrow(() -> new AssertionError("retained chunk not delivered"));
            assertTrue(got.retained());
            assertEquals(chunk.length, got.payload().length);
        }
        // max_packet_size 1 MiB: the broker drops a client that sends more rather than buffering it.
        try (RawMqtt server = RawMqtt.connect(broker.url(), SERVER, SERVER_PW)) {
            byte[] huge = new byte[2 * 1024 * 1024];
            try {
                server.publish(Topics.chunk("edge-gateway", SHA, 1), huge, 1, true);
            } catch (MqttException expected) {
                // Paho reports the dropped connection as a failed publish; either way it must not be delivered.
            }
            assertFalse(server.isConnected(), "a packet above max_packet_size must end the connection");
        }
        clearRetained(topic);
    }

    @Test
    void retainedMessagesSurviveABrokerRestart() throws Exception {
        String topic = Topics.manifest("edge-gateway", SHA);
        try (RawMqtt server = RawMqtt.connect(broker.url(), SERVER, SERVER_PW)) {
            server.publish(topic, bytes("{\"manifest\":1}"), 1, true);
        }
        broker.restart();
        try (RawMqtt gw = RawMqtt.connect(broker.url(), GW, GW_PW)) {
            gw.subscribe(topic, 1);
            RawMqtt.Received got = gw.await(r -> r.topic().equals(topic), Duration.ofSeconds(5))
                    .orElseThrow(() -> new AssertionError("retained manifest lost across a restart: persistence is off?"));
            assertEquals("{\"manifest\":1}", got.text());
        }
        clearRetained(topic);
    }

    /** Subscribes; a refusal (0x87, which Paho raises as an exception) is as good as an empty delivery. */
    private static void subscribeOrRefused(RawMqtt client, String filter) throws MqttException {
        try {
            client.subscribe(filter, 1);
        } catch (MqttException e) {
            assertEquals(0x87, e.getReasonCode(), "subscribing to " + filter + ": " + e.getMessage());
        }
    }

    private static void clearRetained(String topic) throws MqttException {
        try (RawMqtt server = RawMqtt.connect(broker.url(), SERVER, SERVER_PW)) {
            server.publish(topic, new byte[0], 1, true);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
