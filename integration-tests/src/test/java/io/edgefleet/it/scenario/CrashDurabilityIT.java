package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.Agent;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.TestBroker;
import io.edgefleet.it.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, findings 2 and 3, with the quickstart's own setup (embedded broker on port 0, H2): the
 * server is killed with SIGKILL right after the API confirmed writes; after a restart every confirmed
 * write is there, the embedded broker is on the same port, and an agent that only knows the URL it was
 * given at registration is connected again.
 */
class CrashDurabilityIT {
    static final String CLASS = "it-crash-class";

    @Test
    void confirmedWritesAndTheBrokerPortSurviveSigkill() throws Exception {
        // H2 always: the finding was H2's write delay; with TestDatabase.choose() a machine with PostgreSQL (CI) would
        // run this on PostgreSQL and pass whatever H2's settings are.
        try (Fleet fleet = Fleet.start("crash", Map.of(), TestBroker::embedded, TestDatabase::h2)) {
            Api api = fleet.api();
            api.createDeviceClass(CLASS, 200.0);
            Fleet.Device agentDevice = fleet.register(CLASS, "it-crash-agent").get(0);
            Agent agent = fleet.startAgent(agentDevice);
            Await.until(Duration.ofSeconds(30), "agent connected", agent::isConnected);
            Path portFile = fleet.server().dataDir().resolve("mqtt-embedded-port");
            String port = Files.readString(portFile, StandardCharsets.UTF_8).trim();
            assertTrue(agentDevice.mqttUrl().endsWith(":" + port), agentDevice.mqttUrl() + " vs stored port " + port);

            List<String> confirmed = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String id = "it-crash-" + i;
                api.registerDevice(id, CLASS);
                confirmed.add(id);
            }
            fleet.server().kill(); // right after the last 201
            fleet.server().restart();

            for (String id : confirmed) {
                assertEquals(200, api.get("/api/v1/devices/" + id).status(), id + " was confirmed (201) before the crash");
            }
            assertEquals(port, Files.readString(portFile, StandardCharsets.UTF_8).trim(), "the broker port is kept");
            Await.until(Duration.ofSeconds(90), "the agent reconnected to the restarted server's broker",
                    () -> agent.isConnected() && api.device(agentDevice.id()).path("online").asBoolean(),
                    () -> api.device(agentDevice.id()).toString());
        }
    }
}
