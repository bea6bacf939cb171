package io.edgefleet.server.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** edgefleet.mqtt.keep-alive becomes the server's MQTT keep-alive, or the start fails with the reason. */
class KeepAliveConfigTest {
    @Test
    void wholeSecondsWithinTheSixteenBitFieldAreUsedAsGiven() {
        assertEquals(120, MqttGateway.keepAliveSeconds(Duration.ofSeconds(120)));
        assertEquals(1, MqttGateway.keepAliveSeconds(Duration.ofSeconds(1)));
        assertEquals(65_535, MqttGateway.keepAliveSeconds(Duration.ofSeconds(65_535)));
        assertEquals(300, MqttGateway.keepAliveSeconds(Duration.ofMinutes(5)));
    }

    @Test
    void zeroNegativeFractionalAndTooLongAreRefusedWithTheKeyInTheMessage() {
        for (Duration bad : new Duration[] {Duration.ZERO, Duration.ofSeconds(-30), Duration.ofMillis(1500),
                Duration.ofMillis(500), Duration.ofSeconds(65_536), Duration.ofDays(2), null}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MqttGateway.keepAliveSeconds(bad),
                    String.valueOf(bad));
            assertTrue(e.getMessage().startsWith("edgefleet.mqtt.keep-alive must be whole seconds from 1s to 65535s"),
                    e.getMessage());
        }
    }
}
