package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.MosquittoBroker;
import io.edgefleet.it.RawMqtt;
import io.edgefleet.it.Repo;
import io.edgefleet.it.ServerProcess;
import io.edgefleet.protocol.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Promise 6 with the real broker: per-device credentials that the broker accepts only while the
 * server says so, installed by deploy/mosquitto/sync-credentials.sh exactly as an operator would.
 */
class BrokerCredentialsIT {
    static final String CLASS = "it-cred-class";

    static Fleet fleet;
    static Api api;

    @BeforeAll
    static void startFleet() {
        fleet = Fleet.start("credentials");
        api = fleet.api();
        api.createDeviceClass(CLASS, 200.0);
    }

    @AfterAll
    static void stopFleet() {
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    void aRevokedDeviceIsRefusedByTheBroker() throws Exception {
        Fleet.Device d = fleet.register(CLASS, "it-revoked").get(0);
        try (RawMqtt ok = RawMqtt.connect(d.mqttUrl(), d.username(), d.password())) {
            assertTrue(ok.isConnected());
        }
        assertEquals(404, api.get("/api/v1/devices/it-nobody").status());
        api.send("DELETE", "/api/v1/devices/it-revoked/credentials").expect(200, 204);
        fleet.broker().syncCredentials(api);
        MqttException refused = assertThrows(MqttException.class,
                () -> RawMqtt.connect(d.mqttUrl(), d.username(), d.password()).close());
        assertTrue(refused.getReasonCode() == 134 || refused.getReasonCode() == 135, "reason " + refused.getReasonCode());
    }

    /**
     * The ACL the server renders (device topics as %u patterns, per device its class's artifacts), enforced by the
     * real Mosquitto: a device writes its own telemetry but not another's, and reads its own commands but not another's.
     */
    @Test
    void theRenderedAclConfinesEachDeviceToItsOwnTopics() throws Exception {
        assumeTrue(fleet.broker().isMosquitto(), "the rendered ACL is Mosquitto's; this run uses the embedded broker");
        List<Fleet.Device> ds = fleet.register(CLASS, "it-acl-a", "it-acl-b");
        Fleet.Device a = ds.get(0);
        Fleet.Device b = ds.get(1);
        String acl = api.get("/api/v1/broker/mosquitto/acl").text(200);
        assertTrue(acl.contains("pattern read edgefleet/v1/devices/%u/cmd\n"), acl);
        assertFalse(acl.contains("topic read " + Topics.cmd(a.id())), "no per-device command line any more:\n" + acl);
        var tool = fleet.broker().serverLogin().orElseThrow();
        try (RawMqtt server = RawMqtt.connect(a.mqttUrl(), tool.username(), tool.password());
             RawMqtt devA = RawMqtt.connect(a.mqttUrl(), a.username(), a.password())) {
            server.subscribe(Topics.allDevices(Topics.Kind.TELEMETRY), 1);
            assertTrue(RawMqtt.accepted(devA.publish(Topics.telemetry(a.id()), "own".getBytes(StandardCharsets.UTF_8), 1, false)));
            assertTrue(server.await(r -> r.topic().equals(Topics.telemetry(a.id())), Duration.ofSeconds(10)).isPresent(),
                    "a device's own telemetry reaches the server");
            assertEquals(0x87, devA.publish(Topics.telemetry(b.id()), "spoof".getBytes(StandardCharsets.UTF_8), 1, false),
                    "a device must not write another device's telemetry");

            assertEquals(1, devA.subscribe(Topics.cmd(a.id()), 1));
            try {
                devA.subscribe(Topics.cmd(b.id()), 1);
            } catch (MqttException refused) {
                assertEquals(0x87, refused.getReasonCode(), refused.getMessage());
            }
            server.publish(Topics.cmd(b.id()), "for-b".getBytes(StandardCharsets.UTF_8), 1, false);
            server.publish(Topics.cmd(a.id()), "for-a".getBytes(StandardCharsets.UTF_8), 1, false);
            RawMqtt.Received own = devA.await(r -> true, Duration.ofSeconds(10))
                    .orElseThrow(() -> new AssertionError("the device did not receive its own command"));
            // The broker delivers in order: had b's command got through, it would have come first.
            assertEquals("for-a", own.text(), "a device must not read another device's commands");
            assertTrue(devA.await(r -> r.text().equals("for-b"), Duration.ofMillis(500)).isEmpty());
            assertTrue(server.await(r -> r.text().equals("spoof"), Duration.ofMillis(500)).isEmpty());
        }
    }

    @Test
    void syncCredentialsScriptInstallsTheRenderedFilesAndReloadsMosquitto() throws Exception {
        assumeTrue(fleet.broker().isMosquitto(), "the script drives Mosquitto; this run uses the embedded broker");
        MosquittoBroker broker = (MosquittoBroker) fleet.broker();
        JsonNode registered = api.registerDevice("it-scripted", CLASS);
        Fleet.Device d = Fleet.toDevice(registered, CLASS);
        assertThrows(MqttException.class, () -> RawMqtt.connect(d.mqttUrl(), d.username(), d.password()).close(),
                "before the sync the broker does not know the new device");

        Script first = runSync(broker, api.token());
        assertEquals(0, first.exit(), first.output());
        Path passwd = broker.dir().resolve("passwd");
        assertTrue(Files.readString(passwd).lines().anyMatch(l -> l.startsWith("it-scripted:$7$")), "device entry written");
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(passwd)));
        try (RawMqtt device = RawMqtt.connect(d.mqttUrl(), d.username(), d.password())) {
            assertTrue(device.isConnected(), "after the sync and SIGHUP the device is accepted");
        }
        // The server's own connection survived the reload: it still answers health and sees the device.
        assertEquals(200, api.get("/api/v1/devices/it-scripted").status());

        // A second run is harmless: either nothing changed, or the same entries are installed again (the
        // server's own line may carry a fresh salt on every render) and the device is still accepted.
        Script again = runSync(broker, api.token());
        assertEquals(0, again.exit(), again.output());
        try (RawMqtt device = RawMqtt.connect(d.mqttUrl(), d.username(), d.password())) {
            assertTrue(device.isConnected());
        }

        String before = Files.readString(passwd);
        Script badToken = runSync(broker, "wrong-token");
        assertEquals(1, badToken.exit(), badToken.output());
        assertTrue(badToken.output().contains("left unchanged"), badToken.output());
        assertEquals(before, Files.readString(passwd), "a failed fetch leaves the broker's files alone");

        Script noToken = runSync(broker, "");
        assertEquals(2, noToken.exit(), noToken.output());
    }

    /**
     * One Mosquitto shared by two server replicas, each with its own broker user (the shipped config ties the client
     * id to the user, so they cannot share one), fed only by sync-credentials.sh. A new replica whose user the broker
     * does not know yet records it at start; a sync from the other replica installs it, the new replica's connect
     * retry gets in, and from then on a sync from either replica keeps both users, so both log in again after the
     * broker restarts. Before, each replica rendered only its own user and a sync from one locked the other out.
     */
    @Test
    void aSyncFromEitherReplicaKeepsEveryReplicasBrokerUser() throws Exception {
        assumeTrue(fleet.broker().isMosquitto(), "the script drives Mosquitto; this run uses the embedded broker");
        MosquittoBroker broker = (MosquittoBroker) fleet.broker();
        String replicaUser = broker.replicaServerProperties().get("edgefleet.mqtt.username");
        String serverUser = broker.serverProperties().get("edgefleet.mqtt.username");
        // The script installs exactly what the server renders (no test tool login): put the broker's files back after.
        String passwdBefore = Files.readString(broker.dir().resolve("passwd"));
        String aclBefore = Files.readString(broker.dir().resolve("acl"));
        Script first = runSync(broker, api, api.token());
        assertEquals(0, first.exit(), first.output());
        assertFalse(userLines(broker).contains(replicaUser), "the broker knows no replica user before the replica starts");

        CompletableFuture<ServerProcess> starting = CompletableFuture.supplyAsync(
                () -> fleet.startReplica("credentials-replica", Map.of()));
        Await.until(Duration.ofSeconds(120), "the starting replica recorded its broker user",
                () -> api.get("/api/v1/broker/server-logins").text(200).contains("\"" + replicaUser + "\""));
        Script fromPrimary = runSync(broker, api, api.token());
        assertEquals(0, fromPrimary.exit(), fromPrimary.output());
        ServerProcess replica = starting.get(150, TimeUnit.SECONDS); // ready means its MQTT client is connected
        try {
            assertTrue(userLines(broker).containsAll(List.of(serverUser, replicaUser)), "both replicas' users installed");

            Script fromReplica = runSync(broker, replica.api(), api.token());
            assertEquals(0, fromReplica.exit(), fromReplica.output());
            List<String> installed = userLines(broker);
            assertTrue(installed.containsAll(List.of(serverUser, replicaUser)),
                    "a sync from the replica keeps the first server's user too: " + installed);
            String acl = Files.readString(broker.dir().resolve("acl"));
            for (String user : List.of(serverUser, replicaUser)) {
                assertTrue(acl.contains("user " + user + "\ntopic readwrite edgefleet/v1/#\n"), user + " in the ACL:\n" + acl);
            }

            broker.restart(); // both must log in again with only what the script installed
            for (Api each : List.of(api, replica.api())) {
                Await.until(Duration.ofSeconds(90), "server at " + each.baseUrl() + " reconnected after the broker restart",
                        () -> each.get("/api/v1/broker").text(200).contains("\"connected\":true"));
            }
        } finally {
            replica.close();
            api.send("DELETE", "/api/v1/broker/server-logins/" + replicaUser).expect(204);
            broker.installCredentials(passwdBefore, aclBefore);
        }
        assertFalse(api.get("/api/v1/broker/mosquitto/passwd").text(200).contains(replicaUser + ":"),
                "a replica scaled down for good leaves the rendered files");
    }

    static List<String> userLines(MosquittoBroker broker) throws IOException {
        return Files.readAllLines(broker.dir().resolve("passwd")).stream()
                .filter(l -> l.contains(":")).map(l -> l.substring(0, l.indexOf(':'))).toList();
    }

    record Script(int exit, String output) {
    }

    static Script runSync(MosquittoBroker broker, String token) throws IOException, InterruptedException {
        return runSync(broker, api, token);
    }

    static Script runSync(MosquittoBroker broker, Api server, String token) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("sh", Repo.syncCredentialsScript().toString()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("EDGEFLEET_URL", server.baseUrl());
        env.put("EDGEFLEET_API_TOKEN", token);
        env.put("MOSQUITTO_DIR", broker.dir().toString());
        env.put("MOSQUITTO_PID", Long.toString(broker.pid()));
        // Run as root, the files must still be readable by the user mosquitto drops to (as in production).
        if (isRoot() && userExists("mosquitto")) {
            env.put("MOSQUITTO_OWNER", "mosquitto:mosquitto");
        }
        int reloadsBefore = broker.reloadsLogged();
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "sync-credentials.sh hung");
        if (out.contains("reloaded mosquitto")) {
            broker.awaitReloadsLogged(reloadsBefore + 1);
        }
        return new Script(p.exitValue(), out);
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static boolean userExists(String user) throws IOException {
        return Files.readAllLines(Path.of("/etc/passwd")).stream().anyMatch(l -> l.startsWith(user + ":"));
    }
}
