package io.edgefleet.server.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.Topics;
import java.util.List;
import org.junit.jupiter.api.Test;

class MosquittoConfigRendererTest {
    private final List<MosquittoConfigRenderer.DeviceEntry> devices = List.of(
            new MosquittoConfigRenderer.DeviceEntry("dev-1", "gw", "$7$101$a$b"),
            new MosquittoConfigRenderer.DeviceEntry("dev-2", "cam", "$7$101$c$d"));

    @Test
    void passwdListsServerThenDevices() {
        assertEquals("ops:$7$101$s$h\ndev-1:$7$101$a$b\ndev-2:$7$101$c$d\n",
                MosquittoConfigRenderer.passwd(devices, List.of(new ServerLogins.Login("ops", "$7$101$s$h"))));
        assertEquals("dev-1:$7$101$a$b\ndev-2:$7$101$c$d\n", MosquittoConfigRenderer.passwd(devices, List.of()));
    }

    @Test
    void everyReplicasUserIsInBothFilesWithTheServersRights() {
        List<ServerLogins.Login> replicas = List.of(new ServerLogins.Login("server-0", "$7$101$s$0"),
                new ServerLogins.Login("server-1", "$7$101$s$1"));
        assertEquals("server-0:$7$101$s$0\nserver-1:$7$101$s$1\ndev-1:$7$101$a$b\ndev-2:$7$101$c$d\n",
                MosquittoConfigRenderer.passwd(devices, replicas));
        String acl = MosquittoConfigRenderer.acl(devices, List.of("server-0", "server-1"));
        for (String user : List.of("server-0", "server-1")) {
            assertTrue(acl.contains("user " + user + "\ntopic readwrite edgefleet/v1/#\n"
                    + "topic read $share/edgefleet/edgefleet/v1/#\n"), user + " has the server's rights:\n" + acl);
        }
        assertTrue(MosquittoConfigRenderer.acl(devices, List.of()).contains("# No server user is configured"));
    }

    @Test
    void aclConfinesEachDeviceToItsTopicsAndClass() {
        String acl = MosquittoConfigRenderer.acl(devices, List.of("ops"));
        assertTrue(acl.contains("user ops\ntopic readwrite edgefleet/v1/#\ntopic read $share/edgefleet/edgefleet/v1/#\n"));
        // The device's own topics once, for every user: %u is the connecting user name, which is the device id.
        assertTrue(acl.contains("pattern write edgefleet/v1/devices/%u/status\n"
                + "pattern write edgefleet/v1/devices/%u/events\n"
                + "pattern write edgefleet/v1/devices/%u/telemetry\n"
                + "pattern write edgefleet/v1/devices/%u/benchmark\n"
                + "pattern write edgefleet/v1/devices/%u/capture\n"
                + "pattern read edgefleet/v1/devices/%u/cmd\n"
                + "pattern read edgefleet/v1/devices/%u/ack\n"), acl);
        // Per device only what a pattern cannot say: its class's artifacts.
        assertTrue(acl.contains("user dev-1\ntopic read edgefleet/v1/classes/gw/artifacts/#\n"), acl);
        assertTrue(acl.contains("user dev-2\ntopic read edgefleet/v1/classes/cam/artifacts/#\n"), acl);
        // every non-comment rule line is a pattern or belongs to a user block, none grants anonymous access
        String beforeFirstUser = acl.substring(0, acl.indexOf("user "));
        assertTrue(beforeFirstUser.lines().allMatch(l -> l.isBlank() || l.startsWith("#")));
        assertEquals(1, count(acl, "pattern write edgefleet/v1/devices/%u/telemetry"), "patterns are written once, not per device");
    }

    /**
     * deploy/mosquitto/acl.example is what operators read and what MosquittoConfigIT installs into a real Mosquitto:
     * its rules must be the ones the server renders for its users, or the IT proves a file nobody deploys.
     */
    @Test
    void theShippedAclExampleHasExactlyTheRulesTheServerRenders() throws java.io.IOException {
        java.nio.file.Path example = java.nio.file.Path.of("").toAbsolutePath().getParent().getParent()
                .resolve("deploy/mosquitto/acl.example");
        String rendered = MosquittoConfigRenderer.acl(List.of(
                new MosquittoConfigRenderer.DeviceEntry("gw-0001", "edge-gateway", "$7$101$a$b"),
                new MosquittoConfigRenderer.DeviceEntry("cam-0001", "camera-arm64", "$7$101$c$d")),
                List.of("edgefleet-server"));
        assertEquals(rules(rendered), rules(java.nio.file.Files.readString(example)), example.toString());
    }

    /** The lines Mosquitto acts on: neither comments nor blank. */
    private static List<String> rules(String acl) {
        return acl.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    @Test
    void theAclGrowsByTwoLinesPerDevice() {
        List<MosquittoConfigRenderer.DeviceEntry> many = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            many.add(new MosquittoConfigRenderer.DeviceEntry("d-" + i, "gw", "$7$101$a$b"));
        }
        long lines100 = MosquittoConfigRenderer.acl(many, List.of("ops")).lines().filter(l -> !l.isBlank()).count();
        long lines0 = MosquittoConfigRenderer.acl(List.of(), List.of("ops")).lines().filter(l -> !l.isBlank()).count();
        assertEquals(200, lines100 - lines0, "a user line and the artifact filter per device, nothing else");
    }

    @Test
    void eachPatternExpandsToTheDevicesOwnTopicsAsTheAgentUsesThem() {
        String id = "gw-0001";
        List<String> expanded = MosquittoConfigRenderer.DEVICE_PATTERNS.stream()
                .map(l -> l.substring(l.lastIndexOf(' ') + 1).replace("%u", id)).toList();
        assertEquals(List.of(Topics.status(id), Topics.events(id), Topics.telemetry(id), Topics.benchmark(id),
                Topics.capture(id), Topics.cmd(id), Topics.ack(id)), expanded);
        for (String line : MosquittoConfigRenderer.DEVICE_PATTERNS) {
            String topic = line.substring(line.lastIndexOf(' ') + 1).replace("%u", id);
            boolean write = line.startsWith("pattern write ");
            // the same rules the embedded broker enforces
            assertEquals(write, DeviceTopicPolicy.canPublish(id, topic), line);
            assertEquals(!write, DeviceTopicPolicy.canSubscribe(id, "gw", topic), line);
        }
    }

    @Test
    void aDeviceIdWithTopicSyntaxIsNeverRenderedIntoTheAcl() {
        for (String bad : List.of("a+b", "a#", "a/b", "%u", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MosquittoConfigRenderer.acl(
                    List.of(new MosquittoConfigRenderer.DeviceEntry(bad, "gw", "$7$101$a$b")), List.of("ops")));
            assertTrue(e.getMessage().contains("'" + bad + "' is not a valid id"), e.getMessage());
        }
    }

    private static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
