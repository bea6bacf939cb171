package io.edgefleet.server.mqtt;

import static io.edgefleet.server.support.Api.api;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.FakeDevice;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Promise 6 on the embedded broker: per-device credentials, revocable, and each device confined to its topics. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class BrokerSecurityTest {
    private static final JsonCodec CODEC = new JsonCodec();
    private static String url;
    private static String passA;

    private static boolean ready;

    /** RestAssured learns the test port per test, so fixtures are made in the first test, once. */
    @BeforeEach
    void setUp() {
        if (ready) {
            return;
        }
        ready = true;
        Api.createClass("sec-gw");
        Api.createClass("sec-cam");
        passA = Api.registerDevice("sec-a", "sec-gw");
        Api.registerDevice("sec-b", "sec-gw");
        url = Api.brokerUrl();
    }

    static TelemetryWindow window(String deviceId, long seq) {
        long now = System.currentTimeMillis();
        return new TelemetryWindow(Protocol.VERSION, Protocol.newMessageId(), now, deviceId, seq, now - 10_000, now,
                null, 100, 1, new LatencyStats(3, 7, 9, 12, 4), 1.5, 0.01, 0, false);
    }

    @Test
    void wrongOrUnknownCredentialsAreRefused() {
        MqttException e = assertThrows(MqttException.class, () -> FakeDevice.connect(url, "sec-a", "not-the-password"));
        assertTrue(e.getReasonCode() == 0x86 || e.getReasonCode() == 0x87, "reason " + e.getReasonCode());
        assertThrows(MqttException.class, () -> FakeDevice.connect(url, "nobody", passA));
        assertThrows(MqttException.class, () -> FakeDevice.connect(url, "edgefleet-server", passA));
        assertThrows(MqttException.class, () -> FakeDevice.connect(url, "sec-b", passA), "a password is per device");
    }

    /** Issue 13, finding 1: devA presenting devB's client id must not take over devB's session. */
    @Test
    void aDeviceCannotUseAnotherDevicesClientId() throws Exception {
        String passV = Api.registerDevice("sec-victim", "sec-gw");
        try (FakeDevice b = FakeDevice.connect(url, "sec-victim", passV)) {
            for (int i = 0; i < 3; i++) {
                MqttException e = assertThrows(MqttException.class, () -> FakeDevice.connect(url, "sec-a", passA, "sec-victim"));
                assertTrue(e.getReasonCode() == 0x85 || e.getReasonCode() == 0x86 || e.getReasonCode() == 0x87,
                        "reason " + e.getReasonCode());
            }
            assertThrows(MqttException.class, () -> FakeDevice.connect(url, "sec-a", passA, "sec-a-2"), "any other id");
            Thread.sleep(300);
            assertTrue(b.isConnected(), "the real sec-victim was not kicked off");
        }
        try (FakeDevice a = FakeDevice.connect(url, "sec-a", passA)) {
            assertTrue(a.isConnected(), "its own id still works");
        }
    }

    @Test
    void aDeviceSubscribesOnlyToItsCommandsAndItsClassArtifacts() throws Exception {
        try (FakeDevice a = FakeDevice.connect(url, "sec-a", passA)) {
            int[] codes = a.subscribe(
                    Topics.cmd("sec-a"),
                    "edgefleet/v1/classes/sec-gw/artifacts/#",
                    Topics.cmd("sec-b"),
                    "edgefleet/v1/classes/sec-cam/artifacts/#",
                    "edgefleet/v1/classes/+/artifacts/#",
                    "edgefleet/v1/devices/+/telemetry",
                    "#");
            assertTrue(codes[0] < 0x80, "own cmd");
            assertTrue(codes[1] < 0x80, "own class artifacts");
            for (int i = 2; i < codes.length; i++) {
                assertTrue(codes[i] >= 0x80, "filter #" + i + " must be refused, got " + codes[i]);
            }
        }
    }

    @Test
    void aDeviceCannotPublishAsAnotherDevice() throws Exception {
        try (FakeDevice a = FakeDevice.connect(url, "sec-a", passA)) {
            a.publishAtMostOnce(Topics.telemetry("sec-b"), CODEC.encode(window("sec-b", 1)));
            a.publish(Topics.telemetry("sec-a"), CODEC.encode(window("sec-a", 1)), false);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    api().get("/api/v1/devices/sec-a/telemetry").then().body("size()", equalTo(1)));
            api().get("/api/v1/devices/sec-b/telemetry").then().body("size()", equalTo(0));
        }
    }

    @Test
    void rotatingOrRevokingCutsTheDeviceOff() throws Exception {
        String old = Api.registerDevice("sec-rot", "sec-gw");
        FakeDevice before = FakeDevice.connect(url, "sec-rot", old);
        String fresh = api().post("/api/v1/devices/sec-rot/credentials").jsonPath().getString("credentials.password");
        await().atMost(Duration.ofSeconds(10)).until(() -> !before.isConnected());
        before.close();
        assertThrows(MqttException.class, () -> FakeDevice.connect(url, "sec-rot", old));
        try (FakeDevice after = FakeDevice.connect(url, "sec-rot", fresh)) {
            assertTrue(after.isConnected());
            api().delete("/api/v1/devices/sec-rot/credentials").then().statusCode(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> !after.isConnected());
        }
        MqttException e = assertThrows(MqttException.class, () -> FakeDevice.connect(url, "sec-rot", fresh));
        assertFalse(e.getReasonCode() == 0, "refused with a reason");
        assertEquals(0, api().get("/api/v1/devices/sec-rot/telemetry").jsonPath().getList("$").size());
    }
}
