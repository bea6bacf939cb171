package io.edgefleet.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class SimulatorMainTest {
    @TempDir
    Path dir;

    record Result(int exit, String out, String err) {
    }

    Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = SimulatorMain.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void runWithoutATokenIsAUsageError() {
        Result r = run("run", "--server", "http://127.0.0.1:1", "--class-id", "gw", "--data-dir", dir.toString());
        // EDGEFLEET_API_TOKEN may be set in a developer's shell; only assert when it is not.
        if (System.getenv("EDGEFLEET_API_TOKEN") == null) {
            assertEquals(SimulatorMain.EXIT_USAGE, r.exit());
            assertTrue(r.err().contains("--token (or EDGEFLEET_API_TOKEN) is required"), r.err());
        }
    }

    @Test
    void badSpeedFactorsAndCountsAreUsageErrors() {
        Result r = run("run", "--server", "http://127.0.0.1:1", "--token", "t", "--class-id", "gw", "--speed-factors", "0.3");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("speed factors: 0.3 is outside"), r.err());
        r = run("run", "--server", "http://127.0.0.1:1", "--token", "t", "--class-id", "gw", "--agents", "0");
        assertEquals(2, r.exit());
        r = run("run", "--server", "http://127.0.0.1:1", "--token", "t", "--class-id", "g/w");
        assertEquals(2, r.exit());
        assertEquals(2, run("run", "--agents", "3").exit(), "picocli: missing required options");
    }

    @Test
    void badFaultOptionsAreUsageErrors() {
        Result r = run("run", "--server", "http://127.0.0.1:1", "--token", "t", "--class-id", "gw", "--drift-share", "1.5");
        assertEquals(SimulatorMain.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("drift: share must be in [0, 1]"), r.err());
        r = run("run", "--server", "http://127.0.0.1:1", "--token", "t", "--class-id", "gw", "--error-share", "0.2",
                "--error-rate", "0");
        assertEquals(SimulatorMain.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("errors: rate"), r.err());
        r = run("run", "--server", "http://127.0.0.1:1", "--token", "t", "--class-id", "gw", "--drift-share", "0.5",
                "--drift-class-mix", "0=0.7,1=0.5");
        assertEquals(SimulatorMain.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("class mix: the shares add up to 1.200, more than 1"), r.err());
        r = run("run", "--server", "http://127.0.0.1:1", "--token", "t", "--class-id", "gw", "--thermal-share", "0.5",
                "--thermal-from", "-3");
        assertEquals(SimulatorMain.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("thermal: times must be >= 0 s"), r.err());
    }

    @Test
    void unreachableServerIsARuntimeFailure() {
        Result r = run("run", "--server", "http://127.0.0.1:1", "--token", "t", "--class-id", "gw", "--create-class",
                "--data-dir", dir.toString());
        assertEquals(SimulatorMain.EXIT_FAILED, r.exit());
        assertTrue(r.err().contains("cannot connect"), r.err());
    }

    @Test
    void runCreatesTheClassRegistersAndStartsAgentsThenStopsAfterTheDuration() throws Exception {
        try (StubServer stub = new StubServer()) {
            stub.on("POST /api/v1/device-classes", 201, "{}");
            stub.on("POST /api/v1/devices", req -> {
                try {
                    String id = new ObjectMapper().readTree(req.body()).get("id").asText();
                    return new StubServer.Answer(201, ServerApiTest.registered(id));
                } catch (Exception e) {
                    return new StubServer.Answer(400, "{}");
                }
            });
            stub.on("GET /api/v1/devices?classId=gw&limit=1000", 200, "[]");
            Result r = run("run", "--server", stub.url().toString(), "--token", "tok", "--class-id", "gw", "--create-class",
                    "--agents", "3", "--speed-factors", "1.0,2.0", "--data-dir", dir.toString(), "--duration", "2",
                    "--report-seconds", "1", "--mqtt-url", "tcp://127.0.0.1:1");
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.out().contains("created device class gw"), r.out());
            assertTrue(r.out().contains("started 3 agents (sim-0001..sim-0003)"), r.out());
            assertTrue(r.out().contains("agents connected 0/3"), r.out());
            assertEquals(3, stub.requests("POST", "/api/v1/devices").size());
            for (String id : new String[] {"sim-0001", "sim-0002", "sim-0003"}) {
                assertTrue(Files.exists(dir.resolve(id).resolve("credentials.json")), id);
                assertTrue(Files.isDirectory(dir.resolve(id).resolve("agent").resolve("models")), "agent data dir of " + id);
            }

            // Second run: the server answers 409 and the saved credentials are used.
            stub.on("POST /api/v1/devices", 409, "{\"error\":\"DEVICE_EXISTS\",\"message\":\"exists\"}");
            Result again = run("run", "--server", stub.url().toString(), "--token", "tok", "--class-id", "gw",
                    "--agents", "3", "--data-dir", dir.toString(), "--duration", "1", "--mqtt-url", "tcp://127.0.0.1:1");
            assertEquals(0, again.exit(), again.err());
            Result fresh = run("run", "--server", stub.url().toString(), "--token", "tok", "--class-id", "gw",
                    "--agents", "1", "--data-dir", dir.resolve("other").toString(), "--duration", "1");
            assertEquals(1, fresh.exit());
            assertTrue(fresh.err().contains("sim-0001 is already registered"), fresh.err());
        }
    }

    @Test
    void quickstartRefusesAMissingJarOrABusyPort() throws Exception {
        Result r = run("quickstart", "--server-jar", dir.resolve("nope.jar").toString(), "--data-dir", dir.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("server jar"), r.err());
        Path jar = Files.writeString(dir.resolve("fake.jar"), "x");
        try (ServerSocket busy = new ServerSocket(0)) {
            r = run("quickstart", "--server-jar", jar.toString(), "--port", Integer.toString(busy.getLocalPort()),
                    "--data-dir", dir.toString());
            assertEquals(2, r.exit());
            assertTrue(r.err().contains("is not free"), r.err());
        }
    }

    @Test
    void quickstartRefusesABoardCountThatLeavesNoGateway() {
        Result r = run("quickstart", "--agents", "4", "--boards", "4", "--data-dir", dir.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--boards must be in [0, --agents - 1]"), r.err());
    }

    @Test
    void quickstartRollsOutInWavesAndDriftsOnlyTheBoards() {
        SimulatorMain.Quickstart q = new SimulatorMain.Quickstart();
        CommandLine cl = new CommandLine(q);
        cl.parseArgs("--soak", "7", "--drift-after", "40", "--drift-shift", "3");
        var p = q.wavePolicy();
        assertEquals(1, p.at("/canary/count").asInt());
        assertEquals(50, p.at("/batches/percent").asInt());
        assertEquals(7, p.at("/soakSeconds").asInt());
        assertTrue(p.at("/gates/latency").asBoolean());
        assertEquals(1, SimulatorMain.Quickstart.healthWindow().path("windows").asInt());
        // every board drifts from 40 s on, by +3; nothing else goes wrong
        assertEquals(new io.edgefleet.simulator.fault.FaultPlan(
                new io.edgefleet.simulator.fault.FaultPlan.Drift(1.0, 40, 3, 1.0), null, null, null), q.boardFaults());
        cl.parseArgs("--drift-after", "0");
        assertEquals(io.edgefleet.simulator.fault.FaultPlan.NONE, q.boardFaults());
    }

    @Test
    void aFiringAlertIsAnnouncedWithItsScopeNumbersAndWhereToLook() {
        ServerApi.Alert a = new ServerApi.Alert(7, "demo-drift-demo-board", "EdgefleetDriftHigh", "warning",
                java.util.Map.of("class", "demo-board", "alertname", "EdgefleetDriftHigh"), 0.934, 0.2, 1L);
        assertEquals("==> ALERT EdgefleetDriftHigh (warning) firing for class=demo-board: value 0.93 over threshold 0.20"
                + " (rule demo-drift-demo-board), 95 s after launch; see http://localhost:8080/console and GET /api/v1/alerts",
                SimulatorMain.Quickstart.alertLine(a, 95, java.net.URI.create("http://localhost:8080")));
    }

    @Test
    void eachLoopStateIsAnnouncedWithItsNoteAndItsConsolePage() {
        ServerApi.Loop l = new ServerApi.Loop("l-1", "CANARY", "RECALIBRATE", "every canary device committed the variant",
                4L, 1L, 2L, null, "dep-loop");
        assertEquals("==> LOOP l-1 CANARY (RECALIBRATE): every canary device committed the variant, 130 s after launch;"
                + " see http://localhost:8080/console/loops/l-1",
                SimulatorMain.Quickstart.loopLine(l, 130, java.net.URI.create("http://localhost:8080")));
    }

    @Test
    void theBoardsProgressLineFollowsTheNewestLoopsDeploymentOnceThereIsOne() {
        ServerApi.Loop planning = new ServerApi.Loop("l-2", "PLANNING", "RECALIBRATE", null, null, 5L, null, null, null);
        ServerApi.Loop promoted = new ServerApi.Loop("l-1", "PROMOTED", "RECALIBRATE", null, 4L, 1L, 2L, 3L, "dep-loop-1");
        ServerApi.Loop canary = new ServerApi.Loop("l-3", "CANARY", "RECALIBRATE", null, 6L, 7L, null, null, "dep-loop-3");
        assertEquals("dep-boards", SimulatorMain.Quickstart.followedDeployment("dep-boards", java.util.List.of()));
        assertEquals("dep-boards", SimulatorMain.Quickstart.followedDeployment("dep-boards", java.util.List.of(planning)),
                "a loop still planning has no deployment yet");
        assertEquals("dep-loop-1", SimulatorMain.Quickstart.followedDeployment("dep-boards", java.util.List.of(planning, promoted)),
                "after a promotion the boards run the loop's deployment, also while a newer loop plans");
        assertEquals("dep-loop-3", SimulatorMain.Quickstart.followedDeployment("dep-boards", java.util.List.of(canary, planning,
                promoted)), "the newest loop with a deployment");
    }

    @Test
    void quickstartLoopSettingsAndTheBoardsFreshData() throws Exception {
        SimulatorMain.Quickstart q = new SimulatorMain.Quickstart();
        CommandLine cl = new CommandLine(q);
        cl.parseArgs();
        assertEquals("automatic", q.loopMode);
        assertEquals(1.0, q.driftShift);
        assertEquals("demo-board-drifted-1.00", q.freshDatasetName());
        // the fresh data is what a drifted board sees: standard normal plus the shift, [512, 64] float32
        var arrays = io.edgefleet.protocol.data.Npz.read(new java.io.ByteArrayInputStream(
                SimulatorMain.Quickstart.driftedInputs(1.0)), 1 << 24, "fresh");
        var x = arrays.get("input");
        assertEquals(java.util.List.of(512L, 64L), java.util.Arrays.stream(x.shape()).boxed().toList());
        var floats = x.bytes().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        int n = floats.remaining();
        double mean = 0;
        while (floats.hasRemaining()) {
            mean += floats.get();
        }
        mean /= n;
        assertEquals(512 * 64, n);
        assertEquals(1.0, mean, 0.05, "shifted by the drift");
        Result r = run("quickstart", "--loop-mode", "sometimes", "--data-dir", dir.toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--loop-mode must be automatic, approve or off"), r.err());
    }

    @Test
    void tokensAreRandomAndUrlSafe() {
        String a = SimulatorMain.Quickstart.newToken();
        assertTrue(a.matches("[A-Za-z0-9_-]{32}"), a);
        assertTrue(!a.equals(SimulatorMain.Quickstart.newToken()));
    }

    @Test
    void helpListsBothSubcommands() {
        Result r = run("--help");
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("run") && r.out().contains("quickstart"), r.out());
    }
}
