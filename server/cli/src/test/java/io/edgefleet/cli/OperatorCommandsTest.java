package io.edgefleet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The commands for closed loops, loop modes, benchmarks and the cost model, capture, fleet rollouts and hourly
 * rollups against a fake server speaking the API's shapes: what is sent, what is printed, which exit code.
 * {@code CliIT} runs the same commands against the packaged server.
 */
class OperatorCommandsTest extends FakeServerTest {
    static final String LOOP = "{\"id\":\"l-1\",\"classId\":\"pi4\",\"model\":\"kws\",\"fromVersion\":3,"
            + "\"fromCandidate\":\"identity\",\"alertId\":7,\"ruleId\":\"r-lat\",\"metric\":\"P95_LATENCY_MS\","
            + "\"mode\":\"APPROVE\",\"strategy\":\"AGGRESSIVE\",\"state\":\"AWAITING_APPROVAL\","
            + "\"reason\":\"P95_LATENCY_MS breach; awaiting approval\",\"createdAt\":0,"
            + "\"history\":[{\"at\":0,\"state\":\"AWAITING_APPROVAL\",\"note\":\"awaiting approval\"}]}";

    @Test
    void loopsListShowApproveReject() throws Exception {
        server.on("GET /api/v1/loops?classId=pi4&state=AWAITING_APPROVAL", 200, "[" + LOOP + "]");
        CliRun.Result list = cli.run("loops", "list", "--class", "pi4", "--state", "awaiting_approval");
        assertEquals(0, list.code(), list.toString());
        assertTrue(list.out().startsWith("ID   CLASS  MODEL  STATE"), list.out());
        assertTrue(list.out().lines().anyMatch(l -> l.matches("l-1\\s+pi4\\s+kws\\s+AWAITING_APPROVAL\\s+AGGRESSIVE\\s+"
                + "P95_LATENCY_MS\\s+7\\s.*")), list.out());

        server.on("GET /api/v1/loops/l-1", 200, LOOP);
        CliRun.Result show = cli.run("loops", "show", "l-1");
        assertTrue(show.out().contains("model:           kws from v3 (identity)"), show.out());
        assertTrue(show.out().contains("alert:           #7 rule r-lat metric P95_LATENCY_MS"), show.out());
        assertTrue(show.out().lines().anyMatch(l -> l.matches("1970-01-01 00:00:00\\s+AWAITING_APPROVAL\\s+awaiting approval")),
                show.out());
        assertEquals(json(LOOP), json(cli.run("loops", "show", "l-1", "--json").out()));

        server.on("POST /api/v1/loops/l-1/approve", 200, LOOP.replace("AWAITING_APPROVAL", "READY")
                .replace("\"mode\"", "\"decidedBy\":\"ops\",\"mode\""));
        CliRun.Result approve = cli.run("loops", "approve", "l-1");
        assertEquals(0, approve.code(), approve.toString());
        assertTrue(approve.out().startsWith("loop l-1: READY by ops"), approve.out());

        server.on("POST /api/v1/loops/l-1/reject", 409,
                "{\"error\":\"CONFLICT\",\"message\":\"loop l-1 is READY, not AWAITING_APPROVAL\"}");
        CliRun.Result reject = cli.run("loops", "reject", "l-1", "--reason", "not now");
        assertEquals(ExitCode.CONFLICT, reject.code(), reject.toString());
        assertEquals(json("{\"reason\":\"not now\"}"), json(server.last().bodyText()));
        assertEquals("application/json", server.last().header("Content-Type"));
    }

    @Test
    void classLoopModeShowAndSet() throws Exception {
        server.on("GET /api/v1/device-classes/pi4/loop", 200,
                "{\"classId\":\"pi4\",\"mode\":\"approve\",\"explicit\":false}");
        assertEquals("class pi4: loop mode approve (default)\n", cli.run("classes", "loop", "pi4").out());
        server.on("PUT /api/v1/device-classes/pi4/loop", 200,
                "{\"classId\":\"pi4\",\"mode\":\"automatic\",\"explicit\":true,\"freshDataset\":\"fresh\"}");
        CliRun.Result set = cli.run("classes", "loop", "pi4", "--mode", "automatic", "--fresh-dataset", "fresh");
        assertEquals("class pi4: loop mode automatic, fresh dataset fresh\n", set.out());
        assertEquals(json("{\"mode\":\"automatic\",\"freshDataset\":\"fresh\"}"), json(server.last().bodyText()));
        int before = server.requests.size();
        CliRun.Result bad = cli.run("classes", "loop", "pi4", "--fresh-dataset", "fresh");
        assertEquals(ExitCode.USAGE, bad.code(), bad.toString());
        assertEquals(before, server.requests.size(), "nothing sent");
    }

    static final String JOB = "{\"id\":\"b-1\",\"deviceClassId\":\"pi4\",\"model\":\"kws\",\"version\":2,"
            + "\"devices\":[\"d1\",\"d2\"],\"status\":\"%s\",\"message\":\"%s\",\"progress\":%s,\"serverP95Ms\":1.5,"
            + "\"results\":[%s],\"createdAt\":0}";
    static final String RESULT = "{\"deviceId\":\"d1\",\"status\":\"COMPLETED\",\"reason\":\"NONE\",\"inferences\":100,"
            + "\"p50Ms\":2.0,\"p95Ms\":3.25,\"energyMj\":4.5,\"energySource\":\"model\"}";

    @Test
    void benchmarkWaitsForTheJobAndExitsByItsStatus() throws Exception {
        server.on("POST /api/v1/device-classes/pi4/benchmarks", 202, JOB.formatted("RUNNING", "waiting", "0", ""));
        server.on("GET /api/v1/device-classes/pi4/benchmarks/b-1", 200,
                JOB.formatted("RUNNING", "1 of 2", "0.5", RESULT), JOB.formatted("PARTIAL", "1 of 2 measured", "1", RESULT));
        CliRun.Result r = cli.run("classes", "benchmark", "pi4", "--model", "kws", "--version", "2", "--devices", "2",
                "--seconds", "5", "--wait");
        assertEquals(ExitCode.CONFLICT, r.code(), "PARTIAL exits 5: " + r);
        assertTrue(r.out().startsWith("benchmark b-1 PARTIAL: 1 of 2 measured"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("d1\\s+COMPLETED\\s+NONE\\s+100\\s+2\\s+3.25\\s+-\\s+4.5\\s+model")),
                r.out());
        assertEquals(json("{\"model\":\"kws\",\"version\":2,\"devices\":2,\"seconds\":5}"),
                json(server.requests.get(0).bodyText()));

        server.on("POST /api/v1/device-classes/pi4/benchmarks", 202, JOB.formatted("RUNNING", "waiting", "0", ""));
        CliRun.Result paced = cli.run("classes", "benchmark", "pi4", "--model", "kws", "--version", "2", "--interval-ms", "0");
        assertEquals(ExitCode.OK, paced.code(), paced.toString());
        assertEquals(json("{\"model\":\"kws\",\"version\":2,\"intervalMs\":0}"),
                json(server.requests.get(server.requests.size() - 1).bodyText()));

        server.on("GET /api/v1/device-classes/pi4/benchmarks", 200, "[" + JOB.formatted("COMPLETED", "done", "1", RESULT) + "]");
        CliRun.Result list = cli.run("classes", "benchmarks", "pi4");
        assertTrue(list.out().lines().anyMatch(l -> l.matches("b-1\\s+kws:2\\s+COMPLETED\\s+1/2\\s+1.5\\s+3.25\\s+4.5\\s.*")),
                list.out());

        server.on("GET /api/v1/device-classes/pi4/cost-model", 200, "{\"deviceClassId\":\"pi4\",\"source\":\"fitted\","
                + "\"p95Scale\":2.5,\"p95OffsetMs\":0.1,\"meanScale\":2.0,\"meanOffsetMs\":0,\"reports\":4,\"artifacts\":2,"
                + "\"latencyErrorPercent\":12.3456,\"summary\":\"fitted from 4 device reports\",\"fittedAt\":0}",
                // then a server that names the median basis
                "{\"deviceClassId\":\"pi4\",\"source\":\"fitted\","
                + "\"p95Basis\":\"p50\",\"meanBasis\":\"p50\",\"p95Scale\":2.5,\"p95OffsetMs\":0.1,\"meanScale\":2.0,"
                + "\"meanOffsetMs\":0,\"energyMjPerServerMs\":1.5,\"reports\":4,\"artifacts\":2,\"summary\":\"s\"}");
        CliRun.Result cm = cli.run("classes", "cost-model", "pi4");
        assertTrue(cm.out().contains("source:        fitted"), cm.out());
        assertTrue(cm.out().contains("reports:       4 from 2 artifact(s)"), cm.out());
        assertTrue(cm.out().contains("latency error: 12.346 %"), cm.out());
        // a server from before the median basis names none: its lines scale the server's p95 and mean
        assertTrue(cm.out().contains("2.5 x server p95 + 0.1 ms"), cm.out());
        assertTrue(cm.out().contains("2 x server mean + 0 ms"), cm.out());

        CliRun.Result median = cli.run("classes", "cost-model", "pi4");
        assertTrue(median.out().contains("2.5 x server p50 + 0.1 ms"), median.out());
        assertTrue(median.out().contains("1.5 mJ per server-ms of p50"), median.out());
    }

    @Test
    void captureOnOffAndItsUsageErrors() throws Exception {
        String on = "{\"deviceId\":\"d1\",\"enabled\":true,\"rate\":0.25,\"maxSamples\":8,\"maxBytes\":65536,"
                + "\"samplesReceived\":0,\"bytesReceived\":0,\"datasets\":[]}";
        server.on("PUT /api/v1/devices/d1/capture", 200, on);
        CliRun.Result r = cli.run("devices", "capture", "d1", "--on", "--rate", "0.25", "--max-samples", "8",
                "--max-bytes", "65536");
        assertEquals("device d1: capture on, rate 0.25, at most 8 samples / 64.0 KiB; received 0 samples (0 B)\n", r.out());
        assertEquals(json("{\"enabled\":true,\"rate\":0.25,\"maxSamples\":8,\"maxBytes\":65536}"),
                json(server.last().bodyText()));
        cli.run("devices", "capture", "d1", "--off");
        assertEquals(json("{\"enabled\":false}"), json(server.last().bodyText()));

        int before = server.requests.size();
        assertEquals(ExitCode.USAGE, cli.run("devices", "capture", "d1", "--on").code(), "--on needs --rate");
        assertEquals(ExitCode.USAGE, cli.run("devices", "capture", "d1", "--off", "--rate", "1").code());
        assertEquals(ExitCode.USAGE, cli.run("devices", "capture", "d1", "--on", "--off").code());
        assertEquals(before, server.requests.size(), "nothing sent");
    }

    @Test
    void fleetRolloutSendsTheClassesAndPolicyAndListsSkippedClasses() throws Exception {
        server.on("POST /api/v1/models/kws/versions/1/fleet-rollouts", 202, "{\"model\":\"kws\",\"version\":1,"
                + "\"deployments\":[{\"classId\":\"pi4\",\"version\":3,\"candidate\":\"dynamic-int8\","
                + "\"deploymentId\":\"dep-1\",\"targets\":5}],"
                + "\"skipped\":[{\"classId\":\"gw\",\"reason\":\"no registered variant\"}]}");
        CliRun.Result r = cli.run("rollouts", "fleet", "--model", "kws", "--version", "1", "--class", "pi4", "--class",
                "gw", "--canary", "1", "--soak", "30");
        assertEquals(0, r.code(), r.toString());
        assertEquals(json("{\"classIds\":[\"pi4\",\"gw\"],\"policy\":{\"canary\":{\"count\":1},\"soakSeconds\":30}}"),
                json(server.last().bodyText()));
        assertTrue(r.out().startsWith("fleet rollout of kws:1: 1 deployment(s), 1 class(es) skipped"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("pi4\\s+dep-1\\s+kws:3\\s+dynamic-int8\\s+5\\s+-")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("gw\\s+-\\s+-\\s+-\\s+-\\s+no registered variant")), r.out());
        CliRun.Result both = cli.run("rollouts", "fleet", "--model", "kws", "--version", "1", "--all-at-once", "--soak", "3");
        assertEquals(ExitCode.USAGE, both.code(), both.toString());
    }

    @Test
    void hourlyRollupsOfADeviceOrAClass() throws Exception {
        CliRun.Result none = cli.run("telemetry", "hourly");
        assertEquals(ExitCode.USAGE, none.code(), "one of --device and --class: " + none);
        CliRun.Result both = cli.run("telemetry", "hourly", "--device", "d", "--class", "c");
        assertEquals(ExitCode.USAGE, both.code(), both.toString());
        assertTrue(server.requests.isEmpty());

        // the from parameter depends on the clock: answer whatever hourly query arrives
        FakeServer.Request[] seen = new FakeServer.Request[1];
        CliRun.Result r = cli.run("telemetry", "hourly", "--class", "pi4", "--days", "2");
        seen[0] = server.last();
        assertTrue(seen[0].uri().startsWith("/api/v1/telemetry/hourly?classId=pi4&from="), seen[0].uri());
        long from = Long.parseLong(seen[0].uri().substring(seen[0].uri().indexOf("from=") + 5));
        long expected = (System.currentTimeMillis() - 2 * 86_400_000L) / 3_600_000L * 3_600_000L;
        assertTrue(Math.abs(from - expected) <= 3_600_000L, from + " vs " + expected);
        assertEquals(ExitCode.NOT_FOUND, r.code(), "the fake has no answer for it: " + r);
    }

    @Test
    void hourlyWithCurrentAsksForTheHoursNotRolledUpYetAndMarksThePartialOne() throws Exception {
        long hour = 3_600_000L;
        long now = System.currentTimeMillis();
        long hourStart = now / hour * hour;
        String rows = "[{\"hourStart\":" + (hourStart - hour) + ",\"model\":\"kws\",\"version\":2,\"devices\":1,"
                + "\"windows\":720,\"inferences\":36000,\"errors\":0,\"partial\":false},"
                + "{\"hourStart\":" + hourStart + ",\"model\":\"kws\",\"version\":2,\"devices\":1,"
                + "\"windows\":12,\"inferences\":600,\"errors\":0,\"partial\":true}]";
        // from is the clock's hour a day back: answer it, and the next hour's in case the clock crosses one meanwhile
        long from = (now - 86_400_000L) / hour * hour;
        for (long f : new long[] {from, from + hour}) {
            server.on("GET /api/v1/telemetry/hourly?deviceId=hr-cur-1&from=" + f + "&current=true", 200, rows);
        }
        CliRun.Result r = cli.run("telemetry", "hourly", "--device", "hr-cur-1", "--days", "1", "--current");
        assertEquals(0, r.code(), r.toString());
        assertTrue(server.last().uri().endsWith("&current=true"), server.last().uri());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.out());
        assertTrue(lines.get(1).matches(".*:00:00\\s+kws:2\\s+1\\s+720\\s+36000\\s+0.*"), lines.get(1));
        assertTrue(lines.get(2).matches(".*:00:00 partial\\s+kws:2\\s+1\\s+12\\s+600\\s+0.*"), lines.get(2));

        CliRun.Result plain = cli.run("telemetry", "hourly", "--device", "hr-cur-1", "--days", "1");
        assertFalse(server.last().uri().contains("current"), "without --current the API's default: " + server.last().uri());
        assertEquals(ExitCode.NOT_FOUND, plain.code(), "the fake answers only the current=true query: " + plain);
    }
}
