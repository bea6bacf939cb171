package io.edgefleet.server.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/**
 * The server connects with edgefleet.mqtt.keep-alive, by default 120 s: long enough that a broker busy re-reading a
 * large fleet's credentials (SIGHUP) does not drop it, which the former fixed 30 s did (docs/scale.md).
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class GatewayKeepAliveTest {
    @Inject
    MqttGateway gateway;

    @Test
    void theGatewayConnectsWithTheConfiguredKeepAlive() {
        assertEquals(120, gateway.options().getKeepAliveInterval());
    }
}
