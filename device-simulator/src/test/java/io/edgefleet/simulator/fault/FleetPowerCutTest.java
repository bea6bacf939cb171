package io.edgefleet.simulator.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import io.edgefleet.agent.Agent;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.simulator.Fleet;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A scheduled power cut kills the device without an orderly stop, and power returning starts it again on its data. */
class FleetPowerCutTest {
    @TempDir
    Path dir;

    @Test
    void powerIsCutAndComesBack() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: the agents keep trying to connect, which is fine here
        }
        String key = ManifestSigner.encodePublic(ManifestSigner.generateKeyPair().getPublic());
        FaultPlan plan = new FaultPlan(null, null, null, new FaultPlan.PowerCut(0.5, 0.3, 0.5));
        try (Fleet fleet = new Fleet(plan)) {
            for (int i = 1; i <= 2; i++) {
                fleet.start(AgentConfig.builder().deviceId("pc-" + i).classId("gw").mqttUrl("tcp://127.0.0.1:" + port)
                        .serverKeys(List.of(key)).dataDir(dir.resolve("pc-" + i)).build());
            }
            Agent first = fleet.agents().get(0);
            Agent second = fleet.agents().get(1);
            long deadline = System.currentTimeMillis() + 10_000;
            while (fleet.agents().get(0) == first && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertNotSame(first, fleet.agents().get(0), "device 0 was cut and restarted as a new agent");
            assertEquals("pc-1", fleet.agents().get(0).deviceId());
            assertEquals(second, fleet.agents().get(1), "device 1 is not in the 50 % share");
        }
    }
}
