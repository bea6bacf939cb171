package io.edgefleet.server.mqtt;

import static io.edgefleet.server.support.Api.api;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.protocol.Topics;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.FakeDevice;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rendered password and ACL files drive a real Mosquitto the way an operator would use them:
 * the stored $7$ hashes log devices in, the ACL confines them, the server user reads through the
 * shared subscription. Skipped when no mosquitto binary is installed.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class MosquittoInteropTest {
    private static final Path MOSQUITTO = Path.of("/usr/sbin/mosquitto");

    @TempDir
    Path dir;

    @Test
    void renderedFilesConfigureARealMosquitto() throws Exception {
        assumeTrue(Files.isExecutable(MOSQUITTO), "mosquitto is not installed: interop test skipped");
        Api.createClass("mq-gw");
        Api.createClass("mq-cam");
        String p1 = Api.registerDevice("mq-1", "mq-gw");
        Api.registerDevice("mq-2", "mq-cam");
        String p3 = Api.registerDevice("mq-3", "mq-gw");
        api().delete("/api/v1/devices/mq-3/credentials").then().statusCode(200);

        Path passwd = dir.resolve("passwd");
        Path acl = dir.resolve("acl");
        Files.writeString(passwd, api().get("/api/v1/broker/mosquitto/passwd").then().statusCode(200)
                .contentType("text/plain").extract().asString());
        Files.writeString(acl, api().get("/api/v1/broker/mosquitto/acl").then().statusCode(200).extract().asString());
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, String.join("\n",
                "listener " + port + " 127.0.0.1",
                "allow_anonymous false",
                "password_file " + passwd,
                "acl_file " + acl,
                "persistence false",
                "log_dest stdout", ""));
        // Mosquitto started as root drops to its own user, which must be able to read the files.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (Path f : List.of(passwd, acl, conf)) {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        }
        Process mosquitto = new ProcessBuilder(MOSQUITTO.toString(), "-c", conf.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
        try {
            waitForPort(port, mosquitto);
            String url = "tcp://127.0.0.1:" + port;

            assertThrows(MqttException.class, () -> FakeDevice.connect(url, "mq-1", "wrong"));
            assertThrows(MqttException.class, () -> FakeDevice.connect(url, "mq-3", p3), "revoked device");
            try (FakeDevice server = FakeDevice.connect(url, "ops-server", "ops-secret");
                 FakeDevice d1 = FakeDevice.connect(url, "mq-1", p1)) {
                int[] serverCodes = server.subscribe(Topics.shared(Topics.allDevices(Topics.Kind.TELEMETRY)));
                assertTrue(serverCodes[0] < 0x80, "server shared subscription granted: " + serverCodes[0]);

                // Mosquitto grants any subscription and applies the ACL when delivering: check delivery.
                d1.subscribe(Topics.cmd("mq-1"), "edgefleet/v1/classes/mq-gw/artifacts/#", Topics.cmd("mq-2"),
                        "edgefleet/v1/classes/mq-cam/artifacts/#");
                server.publish(Topics.cmd("mq-2"), "{\"not\":\"yours\"}");
                server.publish("edgefleet/v1/classes/mq-cam/artifacts/x/manifest", "{\"not\":\"yours\"}");
                server.publish("edgefleet/v1/classes/mq-gw/artifacts/x/manifest", "{\"yours\":true}");
                server.publish(Topics.cmd("mq-1"), "{\"yours\":true}");
                d1.await(r -> r.topic().equals(Topics.cmd("mq-1")), Duration.ofSeconds(10));
                d1.await(r -> r.topic().equals("edgefleet/v1/classes/mq-gw/artifacts/x/manifest"), Duration.ofSeconds(10));
                Thread.sleep(300);
                assertEquals(2, d1.received().size(), "only its own cmd and its class's artifacts reach a device: "
                        + d1.received().stream().map(FakeDevice.Received::topic).toList());

                d1.publish(Topics.telemetry("mq-2"), "{\"forged\":true}");
                d1.publish(Topics.telemetry("mq-1"), "{\"own\":true}");
                server.await(r -> r.topic().equals(Topics.telemetry("mq-1")), Duration.ofSeconds(10));
                Thread.sleep(300);
                assertEquals(List.of(Topics.telemetry("mq-1")),
                        server.received().stream().map(FakeDevice.Received::topic).toList(),
                        "the forged publish on another device's topic never arrives");
            }
        } finally {
            mosquitto.destroy();
            mosquitto.waitFor();
        }
    }

    private static void waitForPort(int port, Process p) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("mosquitto exited with " + p.exitValue());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("mosquitto did not open port " + port);
    }
}
