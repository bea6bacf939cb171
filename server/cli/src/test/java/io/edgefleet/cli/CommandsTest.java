package io.edgefleet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Each command against a fake server speaking the REST API's shapes, including the shapes other branches add
 * (waves, alerts, plans, paginated lists): what is sent, what is printed, which exit code.
 */
class CommandsTest extends FakeServerTest {
    @Test
    void errorBodiesArePrintedAsCodeAndMessageWithTheMappedExitCode() {
        server.on("POST /api/v1/deployments/d1/pause", 409,
                "{\"error\":\"CONFLICT\",\"message\":\"deployment d1 is COMPLETED, not IN_PROGRESS\"}");
        CliRun.Result r = cli.run("rollouts", "pause", "d1");
        assertEquals(ExitCode.CONFLICT, r.code(), r.toString());
        assertEquals("error: CONFLICT: deployment d1 is COMPLETED, not IN_PROGRESS\n", r.err());
        assertEquals("", r.out());

        server.on("POST /api/v1/devices", 400, "{\"error\":\"UNKNOWN_DEVICE_CLASS\",\"message\":\"no device class 'x'\"}");
        r = cli.run("devices", "register", "dev-1", "--class", "x");
        assertEquals(ExitCode.NOT_FOUND, r.code(), r.toString());
        assertEquals("error: UNKNOWN_DEVICE_CLASS: no device class 'x'\n", r.err());

        r = cli.run("classes", "get", "nope");
        assertEquals(ExitCode.NOT_FOUND, r.code(), r.toString());
        assertTrue(r.err().startsWith("error: NOT_FOUND: "), r.err());

        server.on("GET /api/v1/models", 502, "<html>bad gateway</html>");
        r = cli.run("models", "list");
        assertEquals(ExitCode.SERVER_ERROR, r.code(), r.toString());
        assertEquals("error: HTTP_502: <html>bad gateway</html>\n", r.err());
    }

    @Test
    void helpListsEveryCommandAndTheExitCodes() {
        CliRun.Result r = cli.run("--help");
        assertEquals(0, r.code(), r.toString());
        for (String command : List.of("login", "classes", "devices", "models", "datasets", "compress", "plan", "rollouts",
                "alerts", "telemetry")) {
            assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith(command + " ")), command + " missing:\n" + r.out());
        }
        assertTrue(r.out().contains("Exit codes:"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith("6") && l.contains("server unreachable")), r.out());
        assertTrue(server.requests.isEmpty());

        // every command's help works, including rollouts create, whose --version is the model version
        CliRun.Result create = cli.run("rollouts", "create", "--help");
        assertEquals(0, create.code(), create.toString());
        assertTrue(create.out().startsWith("Usage: edgefleet rollouts create"), create.out());
        assertTrue(create.out().contains("--version=VERSION"), create.out());
    }

    @Test
    void anUnreachableServerExitsSix() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CliRun.Result r = cli.run("--server", "http://127.0.0.1:" + port, "models", "list");
        assertEquals(ExitCode.UNREACHABLE, r.code(), r.toString());
        assertTrue(r.err().startsWith("error: UNREACHABLE: cannot reach the server at http://127.0.0.1:" + port), r.err());
    }

    @Test
    void usageErrorsExitTwoAndSendNothing() {
        CliRun.Result r = cli.run("devices", "register", "dev-1");
        assertEquals(ExitCode.USAGE, r.code(), r.toString());
        assertTrue(r.err().startsWith("error: USAGE: Missing required option: '--class=CLASS'"), r.err());

        r = cli.run("rollouts", "create", "--model", "m", "--version", "1", "--class", "c", "--canary", "0");
        assertEquals(ExitCode.USAGE, r.code(), r.toString());
        assertEquals("error: BAD_INPUT: --canary 0: a device count must be at least 1\n", r.err());

        r = cli.run("rollouts", "create", "--model", "m", "--version", "1", "--class", "c", "--batch", "150%");
        assertEquals(ExitCode.USAGE, r.code(), r.toString());

        r = cli.run("rollouts", "create", "--model", "m", "--version", "1");
        assertEquals(ExitCode.USAGE, r.code(), r.toString());

        r = cli.run("models", "upload", "m", home.resolve("missing.onnx").toString());
        assertEquals(ExitCode.USAGE, r.code(), r.toString());
        assertEquals("error: BAD_INPUT: no such file: " + home.resolve("missing.onnx") + "\n", r.err());

        r = cli.run("no-such-command");
        assertEquals(ExitCode.USAGE, r.code(), r.toString());
        assertTrue(server.requests.isEmpty(), "nothing may reach the server: " + server.requests);
    }

    @Test
    void globalOptionsWorkBeforeAndAfterTheSubcommand() throws Exception {
        server.on("GET /api/v1/device-classes", 200, "[{\"id\":\"pi4\",\"arch\":\"arm64\",\"cores\":4}]");
        CliRun.Result before = cli.run("--json", "classes", "list");
        CliRun.Result after = cli.run("classes", "list", "--json");
        assertEquals(0, before.code(), before.toString());
        assertEquals(before.out(), after.out());
        assertEquals(json("[{\"id\":\"pi4\",\"arch\":\"arm64\",\"cores\":4}]"), json(after.out()));
        assertEquals("Bearer t0k", server.last().header("Authorization"));
    }

    @Test
    void listsAreReadFromBareArraysOrFollowedThroughCursors() throws Exception {
        server.on("GET /api/v1/devices?classId=pi4&online=true", 200,
                "{\"items\":[{\"id\":\"a\",\"online\":true},{\"id\":\"b\",\"online\":false}],\"nextCursor\":\"c/2\"}");
        server.on("GET /api/v1/devices?classId=pi4&online=true&cursor=c%2F2", 200,
                "{\"items\":[{\"id\":\"c\",\"online\":true}],\"nextCursor\":null}");
        CliRun.Result r = cli.run("devices", "list", "--class", "pi4", "--online", "--json");
        assertEquals(0, r.code(), r.toString());
        assertEquals(json("[{\"id\":\"a\",\"online\":true},{\"id\":\"c\",\"online\":true}]"), json(r.out()));
        assertEquals(2, server.requests.size());
    }

    @Test
    void arrayPagesAreFollowedThroughTheNextCursorHeader() throws Exception {
        server.onWithHeaders("GET /api/v1/devices?online=false", 200, Map.of("X-Next-Cursor", "azox"),
                "[{\"id\":\"a\",\"online\":false}]");
        server.on("GET /api/v1/devices?online=false&cursor=azox", 200, "[{\"id\":\"b\",\"online\":false}]");
        CliRun.Result r = cli.run("devices", "list", "--offline", "--json");
        assertEquals(0, r.code(), r.toString());
        assertEquals(json("[{\"id\":\"a\",\"online\":false},{\"id\":\"b\",\"online\":false}]"), json(r.out()));

        // a list asked with its own limit is one page: the events of a device are not all fetched
        server.onWithHeaders("GET /api/v1/devices/a/events?limit=1", 200, Map.of("X-Next-Cursor", "more"),
                "[{\"type\":\"COMMITTED\",\"ts\":0}]");
        r = cli.run("devices", "events", "a", "--limit", "1", "--json");
        assertEquals(0, r.code(), r.toString());
        assertEquals(1, json(r.out()).size());
        assertEquals("GET", server.last().method());
        assertEquals("/api/v1/devices/a/events?limit=1", server.last().uri());
    }

    @Test
    void tablesAlignColumnsAndShowADashForMissingValues() {
        server.on("GET /api/v1/device-classes", 200, """
                [{"id":"pi4","name":"Raspberry Pi 4","arch":"arm64","cores":4,"ramMb":4096,"precisions":["fp32","int8"],
                  "slo":{"p95LatencyMs":12.5,"maxModelBytes":8388608}},
                 {"id":"jetson-nano","arch":"arm64","cores":4,"ramMb":4096,"precisions":["fp16"],
                  "slo":{"p95LatencyMs":5,"maxModelBytes":1536,"maxEnergyMj":0.25}}]""");
        CliRun.Result r = cli.run("classes", "list");
        assertEquals(0, r.code(), r.toString());
        assertEquals("""
                ID           NAME            ARCH   CORES  RAM_MB  PRECISIONS  P95_MS  MAX_MODEL  MAX_ENERGY_MJ
                pi4          Raspberry Pi 4  arm64  4      4096    fp32,int8   12.5    8.0 MiB    -
                jetson-nano  -               arm64  4      4096    fp16        5       1.5 KiB    0.25
                """, r.out());
    }

    @Test
    void registerPrintsTheCredentialsOnceAndSendsTags() throws Exception {
        server.on("POST /api/v1/devices", 201, """
                {"id":"dev-1","classId":"pi4","tags":["lab"],"online":false,"createdAt":0,
                 "credentials":{"username":"dev-1","password":"pw-123"},"mqtt":{"url":"tcp://h:1883"},"serverKeys":["k1"]}""");
        CliRun.Result r = cli.run("devices", "register", "dev-1", "--class", "pi4", "--tag", "lab", "--tag", "eu");
        assertEquals(0, r.code(), r.toString());
        assertEquals(json("{\"id\":\"dev-1\",\"classId\":\"pi4\",\"tags\":[\"lab\",\"eu\"]}"), json(server.last().bodyText()));
        assertTrue(r.out().contains("password:    pw-123"), r.out());
        assertTrue(r.out().contains("mqtt url:    tcp://h:1883"), r.out());
        assertTrue(r.out().contains("shown once"), r.out());
    }

    @Test
    void uploadStreamsTheFileWithItsLengthAndDrawsProgressOnlyOnATerminal() throws Exception {
        byte[] bytes = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(bytes);
        Path file = home.resolve("m.onnx");
        Files.write(file, bytes);
        server.on("POST /api/v1/models/kws/versions", 201,
                "{\"name\":\"kws\",\"version\":3,\"sha256\":\"abc\",\"size\":" + bytes.length + "}");

        CliRun.Result quiet = cli.run("models", "upload", "kws", file.toString());
        assertEquals(0, quiet.code(), quiet.toString());
        assertEquals("uploaded kws version 3 (3.0 MiB, sha256 abc)\n", quiet.out());
        assertEquals("", quiet.err(), "no progress bar into a pipe");
        assertArrayEquals(bytes, server.last().body());
        assertEquals(Integer.toString(bytes.length), server.last().header("Content-Length"));
        assertEquals("application/octet-stream", server.last().header("Content-Type"));

        cli.tty = true;
        CliRun.Result tty = cli.run("models", "upload", "kws", file.toString());
        assertEquals(0, tty.code(), tty.toString());
        assertTrue(tty.err().endsWith("\rupload m.onnx [##############################] 100.0% 3.0 MiB / 3.0 MiB\n"),
                tty.err().substring(Math.max(0, tty.err().length() - 300)));
        assertTrue(tty.err().chars().filter(c -> c == '\r').count() > 2, "the bar moves while the file is sent: " + tty.err());
    }

    @Test
    void rolloutCreateTurnsTheShortcutsIntoAWavePolicy() throws Exception {
        server.on("POST /api/v1/deployments", 202, """
                {"id":"d1","model":"kws","version":2,"status":"IN_PROGRESS",
                 "summary":{"pending":10,"inProgress":0,"committed":0,"rolledBack":0,"failed":0},
                 "waves":{"current":1,"count":4,"phase":"DEPLOYING"}}""");
        CliRun.Result r = cli.run("rollouts", "create", "--model", "kws", "--version", "2", "--class", "pi4", "--tag", "lab",
                "--canary", "10%", "--batch", "3", "--soak", "30", "--min-committed", "95", "--abort-threshold", "20",
                "--gate-max-error-rate", "0.02");
        assertEquals(0, r.code(), r.toString());
        assertEquals(json("""
                {"model":"kws","version":2,"classId":"pi4","tags":["lab"],
                 "policy":{"canary":{"percent":10.0},"batches":{"size":3},"soakSeconds":30,
                           "successCondition":{"minCommittedPercent":95.0},"abort":{"thresholdPercentage":20.0},
                           "gates":{"maxErrorRate":0.02}}}"""), json(server.last().bodyText()));
        assertEquals("rollout d1 created: kws:2, IN_PROGRESS, 0/10 committed, wave 1/4 DEPLOYING\n", r.out());

        // no policy flag: the body has no policy (the server's default waves)
        r = cli.run("rollouts", "create", "--model", "kws", "--version", "2", "--device", "a", "--device", "b");
        assertEquals(0, r.code(), r.toString());
        assertEquals(json("{\"model\":\"kws\",\"version\":2,\"deviceIds\":[\"a\",\"b\"]}"), json(server.last().bodyText()));

        // --all-at-once: the short explicit form, and alone
        r = cli.run("rollouts", "create", "--model", "kws", "--version", "2", "--device", "a", "--all-at-once");
        assertEquals(0, r.code(), r.toString());
        assertEquals(json("{\"model\":\"kws\",\"version\":2,\"deviceIds\":[\"a\"],\"policy\":{\"allAtOnce\":true}}"),
                json(server.last().bodyText()));
        r = cli.run("rollouts", "create", "--model", "kws", "--version", "2", "--device", "a", "--all-at-once", "--soak", "5");
        assertEquals(2, r.code(), r.toString());
    }

    @Test
    void watchPrintsEachChangeUntilTheRolloutEndsAndExitsByItsOutcome() {
        String running = "{\"id\":\"d1\",\"status\":\"IN_PROGRESS\",\"summary\":{\"pending\":3,\"committed\":1},"
                + "\"waves\":{\"current\":1,\"count\":2,\"phase\":\"SOAKING\"}}";
        server.on("GET /api/v1/deployments/d1", 200, running, running,
                "{\"id\":\"d1\",\"status\":\"PAUSED\",\"summary\":{\"pending\":3,\"committed\":1},\"waves\":{\"current\":1,\"count\":2}}",
                "{\"id\":\"d1\",\"status\":\"ABORTED\",\"summary\":{\"committed\":1,\"cancelled\":3},"
                        + "\"waves\":{\"current\":1,\"count\":2},\"halt\":{\"rule\":\"operator\",\"detail\":\"aborted by the operator\"}}");
        CliRun.Result r = cli.run("rollouts", "watch", "d1");
        assertEquals(ExitCode.CONFLICT, r.code(), r.toString());
        List<String> lines = r.out().lines().map(l -> l.replaceFirst("^\\d\\d:\\d\\d:\\d\\d  ", "")).toList();
        assertEquals(List.of(
                "IN_PROGRESS  wave 1/2 SOAKING  1/4 committed, 3 pending",
                "PAUSED  wave 1/2  1/4 committed, 3 pending",
                "ABORTED  wave 1/2  1/4 committed, 3 cancelled",
                "halted by operator: aborted by the operator"), lines);

        server.on("GET /api/v1/deployments/d2", 200, "{\"id\":\"d2\",\"status\":\"COMPLETED\",\"summary\":{\"committed\":4}}");
        assertEquals(0, cli.run("rollouts", "watch", "d2").code());
    }

    @Test
    void pauseResumeAbortRollbackPostToTheirEndpoints() throws Exception {
        String view = "{\"id\":\"d1\",\"status\":\"%s\",\"summary\":{\"committed\":1,\"pending\":1}}";
        server.on("POST /api/v1/deployments/d1/pause", 200, view.formatted("PAUSED"));
        server.on("POST /api/v1/deployments/d1/resume", 200, view.formatted("IN_PROGRESS"));
        server.on("POST /api/v1/deployments/d1/abort", 200, view.formatted("ABORTED"));
        server.on("POST /api/v1/deployments/d1/rollback", 202,
                "{\"deploymentId\":\"d1\",\"reason\":\"bad\",\"sent\":[{\"deviceId\":\"a\",\"commandId\":\"c\"}],\"cancelled\":[\"b\"]}");
        assertEquals("rollout d1: PAUSED, 1/2 committed\n", cli.run("rollouts", "pause", "d1").out());
        assertEquals("rollout d1: IN_PROGRESS, 1/2 committed\n", cli.run("rollouts", "resume", "d1").out());
        assertEquals("rollout d1: ABORTED, 1/2 committed\n", cli.run("rollouts", "abort", "d1", "--reason", "p95").out());
        assertEquals(json("{\"reason\":\"p95\"}"), json(server.last().bodyText()));
        assertEquals("rollout d1 rolled back: 1 rollback command(s) sent, 1 target(s) cancelled\n",
                cli.run("rollouts", "rollback", "d1", "--reason", "bad").out());
    }

    @Test
    void compressWaitFollowsTheJobAndExitsFiveWhenTheGateRejects() throws Exception {
        server.on("POST /api/v1/models/kws/versions/1/compressions", 202,
                "{\"id\":\"j1\",\"status\":\"QUEUED\",\"progress\":0}");
        server.on("GET /api/v1/compression-jobs/j1", 200,
                "{\"id\":\"j1\",\"status\":\"RUNNING\",\"progress\":0.5,\"message\":\"evaluating\"}",
                "{\"id\":\"j1\",\"status\":\"REJECTED\",\"progress\":1,\"recipe\":\"dynamic-int8\","
                        + "\"result\":{\"version\":null,\"gate\":{\"passed\":false}}}");
        cli.tty = true;
        CliRun.Result r = cli.run("compress", "kws", "1", "--recipe", "dynamic-int8", "--validation", "val", "--class", "pi4",
                "--param", "perChannel=true", "--budget-overall", "1", "--wait");
        assertEquals(ExitCode.CONFLICT, r.code(), r.toString());
        assertEquals(json("""
                {"recipe":"dynamic-int8","validationDataset":"val","deviceClassId":"pi4",
                 "budget":{"overallPoints":1.0,"cohortPoints":1.0},"params":{"perChannel":"true"}}"""),
                json(server.requests.get(0).bodyText()));
        assertTrue(r.out().contains("status: REJECTED"), r.out());
        assertTrue(r.out().contains("gate:   rejected"), r.out());
        assertTrue(r.err().contains(" 50.0% RUNNING evaluating"), r.err());
    }

    @Test
    void planWaitReadsTheEnginePlanAndExitsByWhetherThereIsAChoice() throws Exception {
        server.on("POST /api/v1/models/kws/versions/1/plans", 202, "{\"id\":\"p1\",\"status\":\"QUEUED\"}");
        server.on("GET /api/v1/plans/p1", 200, "{\"id\":\"p1\",\"status\":\"RUNNING\",\"progress\":0.3}", """
                {"id":"p1","status":"CHOSEN","progress":1,"base":{"model":"kws","version":1},"choice":"c2","resultVersion":5,
                 "plan":{"choice":"c2","reason":"smallest meeting every SLO",
                 "candidates":[{"id":"c1","recipe":"fp16","status":"EVALUATED","bytes":2048,"meetsAll":false},
                               {"id":"c2","recipe":"dynamic-int8","status":"EVALUATED","bytes":1024,"deviceP95Ms":3.25,
                                "meetsAll":true,"onFrontier":true}]}}""");
        CliRun.Result r = cli.run("plan", "kws", "1", "--class", "pi4", "--validation", "val", "--max-candidates", "4", "--wait");
        assertEquals(0, r.code(), r.toString());
        assertEquals(json("{\"deviceClassId\":\"pi4\",\"validationDataset\":\"val\",\"budget\":{\"maxCandidates\":4}}"),
                json(server.requests.get(0).bodyText()));
        assertTrue(r.out().contains("choice:          c2"), r.out());
        assertTrue(r.out().contains("new version:     kws:5"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("c2\\s+dynamic-int8\\s+EVALUATED\\s+1\\.0 KiB\\s+3\\.25.*yes\\s+\\*")), r.out());

        server.on("POST /api/v1/models/kws/versions/2/plans", 202,
                "{\"id\":\"p2\",\"status\":\"NO_CHOICE\",\"choice\":null,\"plan\":{\"choice\":null,\"reason\":\"no candidate meets every SLO\",\"candidates\":[]}}");
        assertEquals(ExitCode.CONFLICT, cli.run("plan", "kws", "2", "--class", "pi4", "--wait").code());
    }

    @Test
    void alertsListAsksForTheStateInCapitals() {
        server.on("GET /api/v1/alerts?state=FIRING", 200, """
                [{"id":7,"rule":"p95","name":"LatencyHigh","state":"FIRING","severity":"critical",
                  "labels":{"alertname":"LatencyHigh","class":"pi4"},"annotations":{"runbook_url":"docs/runbooks.md#p95"},
                  "value":31.5,"threshold":20,"activeAt":0,"firedAt":60000}]""");
        CliRun.Result r = cli.run("alerts", "list", "--state", "firing");
        assertEquals(0, r.code(), r.toString());
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), r.out());
        assertTrue(lines.get(1).matches("7\\s+FIRING\\s+critical\\s+p95\\s+LatencyHigh\\s+31\\.5\\s+20\\s+class=pi4\\s+"
                + "1970-01-01 00:01:00\\s+-\\s+docs/runbooks.md#p95"), lines.get(1));
    }

    @Test
    void telemetryTailPrintsOnlyNewWindowsOldestFirstAndStopsAfterCount() {
        String w1 = "{\"id\":\"w1\",\"seq\":1,\"windowEnd\":1000,\"inferences\":10,\"errors\":0,\"latency\":{\"p95\":2.5}}";
        String w2 = "{\"id\":\"w2\",\"seq\":2,\"windowEnd\":2000,\"inferences\":11,\"errors\":1,\"latency\":{\"p95\":3}}";
        String w3 = "{\"id\":\"w3\",\"seq\":3,\"windowEnd\":3000,\"inferences\":12,\"errors\":0,\"latency\":{\"p95\":4}}";
        server.on("GET /api/v1/devices/dev-1/telemetry?limit=100", 200,
                "[" + w2 + "," + w1 + "]", "[" + w2 + "," + w1 + "]", "[" + w3 + "," + w2 + "," + w1 + "]");
        CliRun.Result r = cli.run("telemetry", "tail", "dev-1", "--count", "3", "--json");
        assertEquals(0, r.code(), r.toString());
        assertEquals(List.of("w1", "w2", "w3"), r.out().lines().map(l -> {
            try {
                return json(l).path("id").asText();
            } catch (Exception e) {
                throw new AssertionError(l, e);
            }
        }).toList());

        r = cli.run("telemetry", "tail", "dev-1", "--last", "1", "--count", "1");
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), r.out());
        assertTrue(lines.get(0).startsWith("WINDOW_END           SEQ"), lines.get(0));
        assertTrue(lines.get(1).startsWith("1970-01-01 00:00:03  3 "), lines.get(1));
    }
}
