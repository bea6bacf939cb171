package io.edgefleet.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerProcessTest {
    @TempDir
    Path dir;

    @Test
    void commandCarriesTheQuickstartSettings() {
        List<String> cmd = ServerProcess.command(Path.of("srv.jar"), dir.resolve("server"), "tok", 18080);
        assertTrue(cmd.get(0).endsWith("java"), cmd.get(0));
        assertTrue(cmd.contains("-Dedgefleet.api.token=tok"));
        assertTrue(cmd.contains("-Dedgefleet.demo.enabled=true"));
        assertTrue(cmd.contains("-Dedgefleet.alerts.evaluation-interval=5s"), "the demo alerts show within seconds");
        assertTrue(cmd.contains("-Dedgefleet.loop.canary-soak-seconds=10"), "the demo's loop promotes within minutes");
        assertTrue(cmd.contains("-Dedgefleet.loop.canary-min-windows=1"));
        assertTrue(cmd.contains("-Dquarkus.http.port=18080"));
        assertTrue(cmd.contains("-Dedgefleet.data-dir=" + dir.resolve("server").toAbsolutePath()));
        assertEquals("-jar", cmd.get(cmd.size() - 2));
    }

    @Test
    void aChildThatDiesEarlyFailsWithTheEndOfItsLog() throws Exception {
        try (ServerProcess p = ServerProcess.start(List.of("sh", "-c", "echo starting; echo 'port 8080 in use' >&2; exit 3"),
                dir.resolve("server.log"))) {
            ApiException e = assertThrows(ApiException.class,
                    () -> p.awaitReady(new ServerApi(java.net.URI.create("http://127.0.0.1:1"), "t"), 10_000));
            assertTrue(e.getMessage().contains("exited with code 3"), e.getMessage());
            assertTrue(e.getMessage().contains("port 8080 in use"), e.getMessage());
        }
    }

    @Test
    void becomesReadyWhenTheServerSaysSoAndIsStoppedOnClose() throws Exception {
        try (StubServer stub = new StubServer().on("GET /q/health/ready", 200, "{}")) {
            ServerProcess p = ServerProcess.start(List.of("sleep", "60"), dir.resolve("server.log"));
            p.awaitReady(new ServerApi(stub.url(), "t"), 10_000);
            assertTrue(p.isAlive());
            p.close();
            assertFalse(p.isAlive());
            assertFalse(ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive).orElse(false));
        }
    }
}
