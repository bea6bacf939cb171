package io.edgefleet.agent.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.Topics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.mqttv5.client.IMqttMessageListener;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The test server's client outlives a dropped connection the way the server does: what a device publishes while it
 * is away still reaches it, a command published meanwhile waits for the reconnect and arrives, a retained message is
 * not recorded twice on a resumed session, and after a broker restart (no session left) it subscribes again.
 *
 * <p>Opt-in ({@code -Dagent.server-client-drops=true}): dropping a connection from Moquette 0.18.3's side while a PUBACK
 * is in flight can kill one of its session loops (NullPointerException in {@code Session.pubAckReceived}, printed by
 * {@link TestBroker}); every client whose session hashes to that loop is then no longer served, and this test fails.
 * Repeated in one JVM under load 5-10 it failed 3 times in 8 runs; with a pause before the drop 1 in 8 (an event
 * published just after the drop was not delivered after the reconnect), so it stays out of the default suite.
 */
@EnabledIfSystemProperty(named = "agent.server-client-drops", matches = "true")
class ServerClientTest {
    static final String DEV = "sc-drop-dev";

    TestBroker broker;
    ServerClient srv;
    MqttClient device;
    final List<String> commands = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        broker = new TestBroker();
        srv = new ServerClient(broker.url());
        device = new MqttClient(broker.url(), "sc-drop-device", new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(300L);
        o.setAutomaticReconnect(true);
        o.setAutomaticReconnectDelay(1, 2);
        device.connect(o);
        // (Paho 1.2.5's subscribe(String, int, listener) calls itself until the stack overflows: the array form.)
        device.subscribe(new MqttSubscription[] {new MqttSubscription(Topics.cmd(DEV), 1)}, new IMqttMessageListener[] {
            (topic, msg) -> commands.add(new String(msg.getPayload(), StandardCharsets.UTF_8))});
    }

    @AfterEach
    void tearDown() throws Exception {
        srv.close();
        if (device.isConnected()) {
            device.disconnect();
        }
        device.close(true);
        broker.close();
    }

    void devicePublishes(String topic, String text, boolean retained) throws Exception {
        device.publish(topic, new MqttMessage(text.getBytes(StandardCharsets.UTF_8), 1, retained, null));
    }

    long recorded(String topic, String text) {
        return srv.received.stream().filter(r -> r.topic().equals(topic)
                && new String(r.payload(), StandardCharsets.UTF_8).equals(text)).count();
    }

    @Test
    void aDroppedConnectionLosesNeitherWhatDevicesSendNorWhatTheTestPublishes() throws Exception {
        devicePublishes(Topics.status(DEV), "status-1", true);
        ServerClient.await(() -> recorded(Topics.status(DEV), "status-1") == 1, 5_000, "the retained status");

        // Let the client's PUBACK for the status reach the broker first: Moquette 0.18.3 processing a PUBACK after the
        // connection is gone throws in its session loop, which then serves no client (see the class comment).
        Thread.sleep(500);
        assertTrue(broker.disconnect(srv.clientId()), "the broker knew the client");
        ServerClient.await(() -> !srv.isConnected(), 5_000, "the drop seen by the client");
        devicePublishes(Topics.events(DEV), "event-while-away", false);
        srv.publish(Topics.cmd(DEV), "cmd-1".getBytes(StandardCharsets.UTF_8), false); // waits for the reconnect

        ServerClient.await(() -> commands.contains("cmd-1"), 10_000, "the command published across the drop");
        ServerClient.await(() -> recorded(Topics.events(DEV), "event-while-away") == 1, 10_000,
                "the event sent while the client was away, kept in its session");
        devicePublishes(Topics.events(DEV), "event-after", false);
        ServerClient.await(() -> recorded(Topics.events(DEV), "event-after") == 1, 10_000, "an event after the reconnect");
        assertEquals(1, recorded(Topics.status(DEV), "status-1"), "a resumed session does not send the retained status again");
        assertEquals(1, srv.drops().size(), srv.drops().toString());
        assertEquals(List.of(), broker.loopErrors(), "no Moquette session loop died");
    }

    @Test
    void afterABrokerRestartItSubscribesAgain() throws Exception {
        broker.stop();
        broker.start();
        srv.publish(Topics.cmd(DEV), "cmd-after-restart".getBytes(StandardCharsets.UTF_8), false);
        // The broker's sessions died with it: a device connecting now publishes; the client must hear it.
        MqttClient other = new MqttClient(broker.url(), "sc-drop-device-2", new MemoryPersistence());
        try {
            other.connect();
            other.publish(Topics.events(DEV), new MqttMessage("event-after-restart".getBytes(StandardCharsets.UTF_8), 1,
                    false, null));
        } finally {
            other.disconnect();
            other.close(true);
        }
        ServerClient.await(() -> recorded(Topics.events(DEV), "event-after-restart") == 1, 10_000,
                "an event after the restart: the client subscribed again");
        assertTrue(srv.received.stream().anyMatch(r -> new String(r.payload(), StandardCharsets.UTF_8).equals("cmd-after-restart")),
                "its own command, published once the reconnect and the new subscription were done, came back to it");
    }
}
