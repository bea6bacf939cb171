package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.it.Api;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.it.RawMqtt;
import io.edgefleet.it.TestBroker;
import io.edgefleet.protocol.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Promise 6 probed from outside, as issue 13 found it, on both brokers: the embedded one and Mosquitto
 * running the shipped {@code deploy/mosquitto/mosquitto.conf}. A device presenting another device's
 * client id must not take over its session (five attempts in a row, the finding was five kicks in ten
 * seconds), must not reach another device's topics, and anonymous, wrong-password and revoked logins
 * are refused.
 */
class IdentityProbeIT {
    static final String CLASS = "it-probe-class";

    static Stream<String> brokers() {
        List<String> kinds = new ArrayList<>(List.of("embedded"));
        if (TestBroker.isMosquittoInstalled()) {
            kinds.add("mosquitto");
        } else {
            Log.info("mosquitto is not installed: the identity probe runs against the embedded broker only");
        }
        return kinds.stream();
    }

    @ParameterizedTest
    @MethodSource("brokers")
    void noDeviceCanActAsAnotherAndStrangersAreRefused(String kind) throws Exception {
        try (Fleet fleet = Fleet.start("probe-" + kind, Map.of(),
                () -> kind.equals("embedded") ? TestBroker.embedded() : TestBroker.mosquitto("probe"))) {
            Api api = fleet.api();
            api.createDeviceClass(CLASS, 200.0);
            List<Fleet.Device> ds = fleet.register(CLASS, "it-probe-a", "it-probe-b", "it-probe-r");
            fleet.broker().syncCredentials(api);
            Fleet.Device a = ds.get(0);
            Fleet.Device b = ds.get(1);
            Fleet.Device r = ds.get(2);
            String url = b.mqttUrl();

            try (RawMqtt victim = RawMqtt.connect(url, b.username(), b.password())) {
                assertTrue(RawMqtt.accepted(victim.subscribe(Topics.cmd(b.id()), 1)));
                int refused = 0;
                for (int i = 0; i < 5; i++) {
                    // Embedded: refused at CONNECT. Mosquitto: accepted under the attacker's own name
                    // (use_username_as_clientid), so the victim's session is untouched either way.
                    try (RawMqtt attacker = RawMqtt.connect(url, a.username(), a.password(), b.id())) {
                        attacker.publishAsync(Topics.cmd(b.id()), "{\"forged\":true}".getBytes(StandardCharsets.UTF_8), 1);
                        attacker.publishAsync(Topics.telemetry(b.id()), "{}".getBytes(StandardCharsets.UTF_8), 1);
                        attacker.subscribe(Topics.cmd(b.id()), 1);
                    } catch (MqttException e) {
                        refused++;
                    }
                }
                assertTrue(victim.await(m -> true, Duration.ofSeconds(2)).isEmpty(),
                        "nothing another device published reached the victim's command topic");
                assertTrue(victim.isConnected(), "the victim was kicked off: " + victim.disconnectReason());
                assertTrue(victim.disconnectReason().isEmpty(), "no DISCONNECT reached the victim");
                if (kind.equals("embedded")) {
                    assertTrue(refused == 5, "the embedded broker refuses a foreign client id, refused " + refused);
                }
            }

            MqttException anonymous = assertThrows(MqttException.class, () -> RawMqtt.connect(url, null, null).close());
            assertFalse(anonymous.getReasonCode() == 0, "anonymous refused with a reason");
            assertThrows(MqttException.class, () -> RawMqtt.connect(url, a.username(), "wrong-password").close());
            assertThrows(MqttException.class, () -> RawMqtt.connect(url, a.username(), b.password()).close(),
                    "a password is good for its own device only");

            try (RawMqtt ok = RawMqtt.connect(url, r.username(), r.password())) {
                assertTrue(ok.isConnected());
            }
            api.send("DELETE", "/api/v1/devices/" + r.id() + "/credentials").expect(200, 204);
            fleet.broker().syncCredentials(api);
            assertThrows(MqttException.class, () -> RawMqtt.connect(url, r.username(), r.password()).close(),
                    "a revoked device is refused");
        }
    }
}
