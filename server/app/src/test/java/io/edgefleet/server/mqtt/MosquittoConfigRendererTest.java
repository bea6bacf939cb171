package io.edgefleet.server.mqtt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        assertTrue(acl.contains("user dev-1\n"
                + "topic write edgefleet/v1/devices/dev-1/status\n"
                + "topic write edgefleet/v1/devices/dev-1/events\n"
                + "topic write edgefleet/v1/devices/dev-1/telemetry\n"
                + "topic write edgefleet/v1/devices/dev-1/benchmark\n"
                + "topic write edgefleet/v1/devices/dev-1/capture\n"
                + "topic read edgefleet/v1/devices/dev-1/cmd\n"
                + "topic read edgefleet/v1/devices/dev-1/ack\n"
                + "topic read edgefleet/v1/classes/gw/artifacts/#\n"));
        assertTrue(acl.contains("topic read edgefleet/v1/classes/cam/artifacts/#\n"));
        // every non-comment rule line belongs to a user block, none grants anonymous access
        String beforeFirstUser = acl.substring(0, acl.indexOf("user "));
        assertTrue(beforeFirstUser.lines().allMatch(l -> l.isBlank() || l.startsWith("#")));
    }
}
