package io.edgefleet.simulator.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.agent.Agent;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.degrade.ThermalProbe;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.simulator.Fleet;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thermal pressure in a simulated fleet: the selected share of devices reads its own fake sysfs tree, which the
 * agent's own probe finds throttled from the scheduled time and calm again after it; the other devices keep the
 * configured root. (That a throttled agent switches to its light fallback is {@code AgentDegradationTest}'s part.)
 */
class FleetThermalTest {
    @TempDir
    Path dir;

    static void await(BooleanSupplier c, long ms, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + ms;
        while (!c.getAsBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, "timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    @Test
    void theSelectedDevicesRunHotOnScheduleAndCoolAfterwards() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // no broker: connecting is not the point here
        }
        String key = ManifestSigner.encodePublic(ManifestSigner.generateKeyPair().getPublic());
        Path configured = dir.resolve("configured-sys");
        FaultPlan plan = new FaultPlan(null, null, null, null, new FaultPlan.Thermal(0.5, 2.5, 1.0));
        try (Fleet fleet = new Fleet(plan)) {
            for (int i = 1; i <= 2; i++) {
                fleet.start(AgentConfig.builder().deviceId("th-" + i).classId("gw").mqttUrl("tcp://127.0.0.1:" + port)
                        .serverKeys(List.of(key)).dataDir(dir.resolve("th-" + i)).sysfsRoot(configured).build());
            }
            Agent hot = fleet.agents().get(0);
            Agent other = fleet.agents().get(1);
            assertEquals(dir.resolve("th-1").resolve("sysfs"), hot.config().sysfsRoot(), "device 0 is in the 50 % share");
            assertEquals(configured, other.config().sysfsRoot(), "device 1 is not");
            ThermalProbe probe = new ThermalProbe(hot.config().sysfsRoot());
            assertFalse(probe.read().throttled(), "cool before the scheduled start");
            long t0 = System.nanoTime();
            await(() -> probe.read().throttled(), 10_000, "throttling");
            assertTrue(probe.read().detail().contains("thermal_zone0"), probe.read().detail());
            await(() -> !probe.read().throttled(), 5_000, "the heat to end");
            assertTrue(System.nanoTime() - t0 >= 800_000_000L, "hot for about the planned second");
        }
    }

    @Test
    void describesAndValidatesTheThermalFault() {
        assertEquals("thermal: share must be in [0, 1]",
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> new FaultPlan.Thermal(1.5, 0, 0)).getMessage());
        assertEquals("thermal: times must be >= 0 s",
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> new FaultPlan.Thermal(0.5, -1, 0)).getMessage());
    }
}
