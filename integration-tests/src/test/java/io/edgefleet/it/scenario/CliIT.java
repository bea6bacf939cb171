package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cli.CliContext;
import io.edgefleet.cli.EdgefleetCli;
import io.edgefleet.cli.ExitCode;
import io.edgefleet.it.Api;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.it.TestModels;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.protocol.data.NpyArray;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Every command of the fleet CLI against the packaged server, a real broker and a real agent, run in-process
 * ({@link EdgefleetCli#execute}) with captured output. One fleet for all steps; they build on each other.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliIT {
    static final String CLASS = "cli-class";
    static final String MODEL = "cli-mlp";
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    static Fleet fleet;
    static Path home;
    static final Map<String, String> env = new HashMap<>();
    static String rolloutId;

    record Run(int code, String out, String err) {
        JsonNode json() {
            try {
                return Api.JSON.readTree(out);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + this, e);
            }
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CliContext ctx = new CliContext(new PrintWriter(out, true), new PrintWriter(err, true), Map.copyOf(env), home,
                false, Duration.ofMillis(250));
        int code = EdgefleetCli.execute(ctx, args);
        Run r = new Run(code, out.toString(), err.toString());
        Log.info("edgefleet " + String.join(" ", args) + " -> " + code);
        return r;
    }

    static Run ok(String... args) {
        Run r = cli(args);
        assertEquals(0, r.code(), () -> String.join(" ", args) + "\n" + r);
        return r;
    }

    @BeforeAll
    static void start() throws IOException {
        // alert rules and closed-loop passes often enough that a loop of the loops step shows within seconds
        fleet = Fleet.start("cli", Map.of("edgefleet.alerts.evaluation-interval", "2s", "edgefleet.loop.interval", "1s"));
        home = Files.createTempDirectory("edgefleet-cli-home-");
        env.put("EDGEFLEET_CONFIG", home.resolve("cfg/config.properties").toString());
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
        if (home != null) {
            try (var files = Files.walk(home)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                Log.info("could not delete " + home + ": " + e);
            }
        }
    }

    static Path file(String name, byte[] bytes) {
        try {
            return Files.write(home.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    @Order(1)
    void loginRefusesABadTokenAndSavesAGoodOne() {
        String url = fleet.server().baseUrl();
        Run bad = cli("login", "--server", url, "--token", "not-the-token");
        assertEquals(ExitCode.AUTH, bad.code(), bad.toString());
        assertTrue(bad.err().startsWith("error: UNAUTHORIZED: "), bad.err());
        assertFalse(Files.exists(home.resolve("cfg/config.properties")));

        Run good = ok("login", "--server", url, "--token", fleet.server().token());
        assertTrue(good.out().startsWith("logged in to " + url), good.out());
        // from here on, every command takes server and token from the file alone
    }

    @Test
    @Order(2)
    void classesCreateListGetAndTheirErrors() throws IOException {
        String body = """
                {"id":"%s","name":"CLI test class","arch":"x86_64","cores":2,"ramMb":2048,"storageMb":4096,
                 "precisions":["fp32","int8"],"power":{"idleWatts":2.0,"activeWatts":6.0},
                 "slo":{"p95LatencyMs":200.0,"maxModelBytes":50000000,"maxEnergyMj":1000.0},
                 "accuracyBudget":{"overallPoints":50.0,"cohortPoints":50.0}}""".formatted(CLASS);
        Path classFile = file("class.json", body.getBytes());
        assertEquals("created device class " + CLASS + "\n", ok("classes", "create", "--file", classFile.toString()).out());

        Run again = cli("classes", "create", "--file", classFile.toString());
        assertEquals(ExitCode.CONFLICT, again.code(), again.toString());
        assertTrue(again.err().startsWith("error: ALREADY_EXISTS: "), again.err());

        Run invalid = cli("classes", "create", "--file", file("bad.json", "{\"id\":\"x\"}".getBytes()).toString());
        assertEquals(ExitCode.USAGE, invalid.code(), invalid.toString());
        assertTrue(invalid.err().startsWith("error: VALIDATION_FAILED: "), invalid.err());

        JsonNode list = ok("classes", "list", "--json").json();
        assertEquals(CLASS, list.get(0).path("id").asText(), list.toString());
        String table = ok("classes", "list").out();
        assertTrue(table.lines().anyMatch(l -> l.startsWith(CLASS + " ") && l.contains("fp32,int8") && l.contains("200")), table);
        assertTrue(ok("classes", "get", CLASS).out().contains("slo.p95LatencyMs:  200"), "get shows the SLO");

        Run missing = cli("classes", "get", "no-such-class");
        assertEquals(ExitCode.NOT_FOUND, missing.code(), missing.toString());
        assertTrue(missing.err().startsWith("error: NOT_FOUND: "), missing.err());
    }

    @Test
    @Order(3)
    void devicesRegisterListRevokeAndAnAgentComesOnline() {
        Run reg = ok("devices", "register", "cli-dev-1", "--class", CLASS, "--tag", "lab", "--json");
        JsonNode registered = reg.json();
        assertFalse(registered.at("/credentials/password").asText().isEmpty(), reg.out());
        Run human = ok("devices", "register", "cli-dev-2", "--class", CLASS);
        assertTrue(human.out().contains("password:") && human.out().contains("shown once"), human.out());

        Run unknownClass = cli("devices", "register", "cli-dev-3", "--class", "nope");
        assertEquals(ExitCode.NOT_FOUND, unknownClass.code(), unknownClass.toString());
        assertTrue(unknownClass.err().startsWith("error: UNKNOWN_DEVICE_CLASS: "), unknownClass.err());

        ok("devices", "revoke", "cli-dev-2");
        assertFalse(ok("devices", "get", "cli-dev-2", "--json").json().path("credentialActive").asBoolean(true));

        fleet.broker().syncCredentials(fleet.api());
        fleet.startAgent(Fleet.toDevice(registered, CLASS));
        io.edgefleet.it.Await.until(TIMEOUT, "cli-dev-1 online",
                () -> ok("devices", "list", "--online", "--json").json().size() == 1);

        JsonNode byTag = ok("devices", "list", "--tag", "lab", "--json").json();
        assertEquals(1, byTag.size(), byTag.toString());
        assertEquals("cli-dev-1", byTag.get(0).path("id").asText());
        assertEquals(2, ok("devices", "list", "--class", CLASS, "--json").json().size());
        String table = ok("devices", "list", "--class", CLASS).out();
        assertTrue(table.lines().anyMatch(l -> l.matches("cli-dev-1\\s+" + CLASS + "\\s+lab\\s+yes\\s.*active")), table);
        assertTrue(table.lines().anyMatch(l -> l.matches("cli-dev-2\\s+" + CLASS + "\\s+-\\s+no\\s.*revoked")), table);
    }

    @Test
    @Order(4)
    void modelsAndDatasetsUploadAndList() throws IOException {
        Path onnx = file("mlp.onnx", TestModels.mlp(41).bytes());
        Run up = ok("models", "upload", MODEL, onnx.toString());
        assertTrue(up.out().startsWith("uploaded " + MODEL + " version 1 ("), up.out());
        assertEquals("", up.err(), "no progress bar when stderr is not a terminal");

        JsonNode versions = ok("models", "versions", MODEL, "--json").json();
        assertEquals(1, versions.size());
        assertEquals(Files.size(onnx), versions.get(0).path("size").asLong());
        assertTrue(ok("models", "list").out().lines().anyMatch(l -> l.matches(MODEL + "\\s+1\\s+1\\s.*")));

        int samples = 64;
        float[] x = new float[samples * 16];
        Random r = new Random(5);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("x", NpyArray.ofFloats(x, samples, 16));
        Path npz = home.resolve("val.npz");
        Npz.write(npz, arrays);
        Run ds = ok("datasets", "upload", "cli-val", npz.toString());
        assertTrue(ds.out().startsWith("uploaded dataset cli-val (64 samples, no labels"), ds.out());
        assertEquals(64, ok("datasets", "list", "--json").json().get(0).path("sampleCount").asInt());

        Run notNpz = cli("datasets", "upload", "cli-junk", onnx.toString());
        assertEquals(ExitCode.USAGE, notNpz.code(), notNpz.toString());
        assertTrue(notNpz.err().startsWith("error: INVALID_DATASET: "), notNpz.err());
    }

    @Test
    @Order(5)
    void compressWaitsForTheJobAndReportsTheNewVersion() {
        Run r = ok("compress", MODEL, "1", "--recipe", "dynamic-int8", "--validation", "cli-val", "--class", CLASS,
                "--budget-overall", "100", "--wait");
        assertTrue(r.out().contains("status:") && r.out().contains("SUCCEEDED"), r.toString());
        assertTrue(r.out().contains("new version: " + MODEL + ":2"), r.toString());
        assertEquals(2, ok("models", "versions", MODEL, "--json").json().size());

        Run unknownRecipe = cli("compress", MODEL, "1", "--recipe", "no-such-recipe");
        assertEquals(ExitCode.NOT_FOUND, unknownRecipe.code(), unknownRecipe.toString());
        assertTrue(unknownRecipe.err().startsWith("error: UNKNOWN_RECIPE: "), unknownRecipe.err());
    }

    @Test
    @Order(6)
    void planRunsToItsEnd() {
        Run r = cli("plan", MODEL, "1", "--class", CLASS, "--validation", "cli-val", "--max-candidates", "2", "--wait");
        // CHOSEN (exit 0) or NO_CHOICE (exit 5) both mean the plan ran to its end; the candidates are listed
        assertTrue(r.code() == ExitCode.OK || r.code() == ExitCode.CONFLICT, r.toString());
        assertTrue(r.out().matches("(?s).*status:\\s+(CHOSEN|NO_CHOICE).*"), r.toString());
        assertTrue(r.out().contains("CANDIDATE"), r.toString());
        Run missing = cli("plan", MODEL, "1", "--class", "no-such-class");
        assertEquals(ExitCode.NOT_FOUND, missing.code(), missing.toString());
    }

    @Test
    @Order(7)
    void rolloutCreateWatchListGet() {
        Run created = ok("rollouts", "create", "--model", MODEL, "--version", "1", "--class", CLASS, "--all-at-once",
                "--json");
        rolloutId = created.json().path("id").asText();
        Run watch = cli("rollouts", "watch", rolloutId);
        assertEquals(ExitCode.OK, watch.code(), watch.toString());
        assertTrue(watch.out().strip().lines().reduce((a, b) -> b).orElse("").contains("COMPLETED  wave"), watch.out());

        JsonNode list = ok("rollouts", "list", "--json").json();
        assertEquals(rolloutId, list.get(0).path("id").asText(), list.toString());
        assertTrue(ok("rollouts", "list").out().lines().anyMatch(l -> l.startsWith(rolloutId + " ") && l.contains("COMPLETED")));
        String get = ok("rollouts", "get", rolloutId, "--targets").out();
        assertTrue(get.contains("status:") && get.contains("COMPLETED"), get);
        assertTrue(get.lines().anyMatch(l -> l.startsWith("cli-dev-1 ") && l.contains("COMMITTED")), get);

        Run missing = cli("rollouts", "get", "no-such-rollout");
        assertEquals(ExitCode.NOT_FOUND, missing.code(), missing.toString());
    }

    @Test
    @Order(8)
    void telemetryTailPrintsTheAgentsWindows() {
        Run r = ok("telemetry", "tail", "cli-dev-1", "--last", "0", "--count", "2", "--json");
        List<JsonNode> windows = r.out().lines().map(l -> {
            try {
                return Api.JSON.readTree(l);
            } catch (IOException e) {
                throw new AssertionError(l, e);
            }
        }).toList();
        assertEquals(2, windows.size(), r.out());
        assertTrue(windows.get(1).path("seq").asLong() > windows.get(0).path("seq").asLong(), r.out());
        assertTrue(windows.get(0).path("inferences").asLong() > 0, r.out());

        Run human = ok("telemetry", "tail", "cli-dev-1", "--last", "3", "--count", "3");
        assertTrue(human.out().startsWith("WINDOW_END"), human.out());
        assertEquals(4, human.out().lines().count(), human.out());

        Run unknown = cli("telemetry", "tail", "no-such-device", "--count", "1");
        assertEquals(ExitCode.NOT_FOUND, unknown.code(), unknown.toString());
    }

    @Test
    @Order(20)
    void pauseOfAFinishedRolloutIsAConflict() {
        Run done = cli("rollouts", "pause", rolloutId);
        assertEquals(ExitCode.CONFLICT, done.code(), "a finished rollout cannot be paused: " + done);
        assertTrue(done.err().startsWith("error: CONFLICT: "), done.err());
    }

    @Test
    @Order(21)
    void rollbackSendsTheDeviceBack() {
        Run rollback = ok("rollouts", "rollback", rolloutId, "--reason", "cli test");
        assertTrue(rollback.out().startsWith("rollout " + rolloutId + " rolled back: 1 rollback command(s) sent"), rollback.out());
    }

    @Test
    @Order(22)
    void pauseResumeAbort() {
        Run probe = cli("rollouts", "resume", rolloutId);
        String id = ok("rollouts", "create", "--model", MODEL, "--version", "2", "--class", CLASS, "--canary", "1",
                "--soak", "600", "--json").json().path("id").asText();
        assertTrue(ok("rollouts", "pause", id).out().startsWith("rollout " + id + ": PAUSED"));
        assertTrue(ok("rollouts", "resume", id).out().startsWith("rollout " + id + ": IN_PROGRESS"));
        assertTrue(ok("rollouts", "abort", id, "--reason", "cli test").out().startsWith("rollout " + id + ": ABORTED"));
        Run watch = cli("rollouts", "watch", id);
        assertEquals(ExitCode.CONFLICT, watch.code(), "an aborted rollout did not complete: " + watch);
        assertTrue(watch.out().contains("ABORTED"), watch.out());
    }

    @Test
    @Order(23)
    void alertsAndRules() {
        Run r = cli("alerts", "list", "--json");
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.json().isArray(), r.out());
        Run firing = ok("alerts", "list", "--state", "firing");
        assertTrue(firing.out().startsWith("ID"), firing.out());
        JsonNode rules = ok("alerts", "rules", "--json").json();
        assertTrue(rules.isArray(), rules.toString());
    }

    @Test
    @Order(9)
    void captureOnShowOff() {
        assertTrue(ok("devices", "capture", "cli-dev-1").out().startsWith("device cli-dev-1: capture off;"));
        Run on = ok("devices", "capture", "cli-dev-1", "--on", "--rate", "0.5", "--max-samples", "10");
        assertTrue(on.out().startsWith("device cli-dev-1: capture on, rate 0.5, at most 10 samples"), on.out());
        JsonNode shown = ok("devices", "capture", "cli-dev-1", "--json").json();
        assertTrue(shown.path("enabled").asBoolean(), shown.toString());
        assertEquals(10, shown.path("maxSamples").asInt(), shown.toString());
        assertTrue(ok("devices", "capture", "cli-dev-1", "--off").out().startsWith("device cli-dev-1: capture off;"));
        assertFalse(ok("devices", "capture", "cli-dev-1", "--json").json().path("enabled").asBoolean(true));

        Run badRate = cli("devices", "capture", "cli-dev-1", "--on", "--rate", "2");
        assertEquals(ExitCode.USAGE, badRate.code(), badRate.toString());
        assertTrue(badRate.err().startsWith("error: VALIDATION_FAILED: "), badRate.err());
        Run nobody = cli("devices", "capture", "no-such-device", "--off");
        assertEquals(ExitCode.NOT_FOUND, nobody.code(), nobody.toString());
    }

    @Test
    @Order(10)
    void benchmarkOnTheAgentFitsTheCostModel() {
        assertTrue(ok("classes", "cost-model", CLASS).out().contains("source:        declared-profile"));
        Run b = ok("classes", "benchmark", CLASS, "--model", MODEL, "--version", "1", "--devices", "1", "--seconds", "2",
                "--wait");
        assertTrue(b.out().matches("(?s)benchmark \\S+ COMPLETED.*"), b.toString());
        assertTrue(b.out().lines().anyMatch(l -> l.matches("cli-dev-1\\s+COMPLETED\\s.*")), b.out());
        JsonNode jobs = ok("classes", "benchmarks", CLASS, "--json").json();
        assertEquals(1, jobs.size(), jobs.toString());
        assertEquals("COMPLETED", jobs.get(0).path("status").asText());
        assertTrue(ok("classes", "benchmarks", CLASS).out().lines()
                .anyMatch(l -> l.contains(MODEL + ":1") && l.contains("COMPLETED") && l.contains("1/1")));
        String cm = ok("classes", "cost-model", CLASS).out();
        assertTrue(cm.contains("source:        fitted") && cm.contains("reports:       1 from 1 artifact(s)"), cm);
        assertTrue(cm.matches("(?s).*latency error: [0-9.]+ %.*"), cm);

        Run noClass = cli("classes", "benchmark", "no-such-class", "--model", MODEL, "--version", "1");
        assertEquals(ExitCode.NOT_FOUND, noClass.code(), noClass.toString());
        assertEquals(ExitCode.NOT_FOUND, cli("classes", "cost-model", "no-such-class").code());
    }

    @Test
    @Order(11)
    void hourlyRollupsOfTheDeviceAndTheClass() {
        // Only completed hours are rolled up (every 10 min): a fresh fleet may have none, but the answer is the
        // rollup list of exactly that device or class.
        JsonNode device = ok("telemetry", "hourly", "--device", "cli-dev-1", "--days", "1", "--json").json();
        assertTrue(device.isArray(), device.toString());
        device.forEach(r -> assertEquals("cli-dev-1", r.path("deviceId").asText(), device.toString()));
        JsonNode cls = ok("telemetry", "hourly", "--class", CLASS, "--json").json();
        assertTrue(cls.isArray(), cls.toString());
        cls.forEach(r -> assertEquals(CLASS, r.path("classId").asText(), cls.toString()));
        assertTrue(ok("telemetry", "hourly", "--class", CLASS).out().startsWith("HOUR"));
        assertEquals(ExitCode.USAGE, cli("telemetry", "hourly").code(), "one of --device and --class");
    }

    @Test
    @Order(12)
    void classesUpdateDevicesRotateAndEvents() {
        String body = """
                {"id":"%s","name":"CLI test class, renamed","arch":"x86_64","cores":2,"ramMb":2048,"storageMb":4096,
                 "precisions":["fp32","int8"],"power":{"idleWatts":2.0,"activeWatts":6.0},
                 "slo":{"p95LatencyMs":200.0,"maxModelBytes":50000000,"maxEnergyMj":1000.0},
                 "accuracyBudget":{"overallPoints":50.0,"cohortPoints":50.0}}""".formatted(CLASS);
        Path classFile = file("class-renamed.json", body.getBytes());
        assertEquals("updated device class " + CLASS + "\n", ok("classes", "update", CLASS, "--file",
                classFile.toString()).out());
        assertEquals("CLI test class, renamed", ok("classes", "get", CLASS, "--json").json().path("name").asText());
        Run missing = cli("classes", "update", "no-such-class", "--file", classFile.toString());
        assertTrue(missing.code() != ExitCode.OK, missing.toString());

        // a device of its own: rotating cli-dev-1's credentials would drop the running agent the later steps use
        String before = ok("devices", "register", "cli-dev-9", "--class", CLASS, "--json").json()
                .at("/credentials/password").asText();
        JsonNode rotated = ok("devices", "rotate", "cli-dev-9", "--json").json();
        String after = rotated.at("/credentials/password").asText();
        assertFalse(after.isEmpty() || after.equals(before), rotated.toString());
        Run human = ok("devices", "rotate", "cli-dev-9");
        assertTrue(human.out().startsWith("new credentials for device cli-dev-9") && human.out().contains("shown once"),
                human.out());
        assertEquals(ExitCode.NOT_FOUND, cli("devices", "rotate", "no-such-device").code());
        // revoked again: a device that never comes online would hold the later class-wide rollouts until they time out
        ok("devices", "revoke", "cli-dev-9");

        // the running agent's events: it committed the rollouts of the earlier steps
        JsonNode events = ok("devices", "events", "cli-dev-1", "--json").json();
        assertTrue(events.isArray() && events.size() > 0, events.toString());
        assertTrue(events.toString().contains("COMMITTED") || events.toString().contains("committed"), events.toString());
        assertTrue(ok("devices", "events", "cli-dev-1", "--limit", "5").out().startsWith("TIME"));
    }

    @Test
    @Order(30)
    void fleetRolloutDeploysTheClasssVariant() {
        JsonNode variants = fleet.api().get("/api/v1/device-classes/" + CLASS + "/variants").expect(200);
        assertTrue(variants.size() > 0, "the plan step registered the class's variant: " + variants);
        Run r = ok("rollouts", "fleet", "--model", MODEL, "--version", "1", "--class", CLASS, "--all-at-once");
        assertTrue(r.out().startsWith("fleet rollout of " + MODEL + ":1: 1 deployment(s), 0 class(es) skipped"), r.out());
        String line = r.out().lines().filter(l -> l.startsWith(CLASS + " ")).findFirst().orElseThrow(() ->
                new AssertionError(r.out()));
        String dep = line.split("\\s+")[1];
        Run watch = cli("rollouts", "watch", dep);
        assertEquals(ExitCode.OK, watch.code(), watch.toString());

        Run unknown = cli("rollouts", "fleet", "--model", MODEL, "--version", "1", "--class", "no-such-class");
        assertEquals(ExitCode.NOT_FOUND, unknown.code(), unknown.toString());
    }

    @Test
    @Order(31)
    void loopsOfAnAlertAreRejectedAndApprovedAndTheClassSwitchIsSet() {
        assertTrue(ok("classes", "loop", CLASS).out().startsWith("class " + CLASS + ": loop mode approve (default)"));
        assertEquals("class " + CLASS + ": loop mode approve\n", ok("classes", "loop", CLASS, "--mode", "approve").out());
        Run badMode = cli("classes", "loop", CLASS, "--mode", "sometimes");
        assertEquals(ExitCode.USAGE, badMode.code(), badMode.toString());
        assertTrue(badMode.err().startsWith("error: VALIDATION_FAILED: "), badMode.err());

        // Any real latency is above 0.001 ms: the rule fires on the variant's telemetry and asks for a re-plan,
        // which in approve mode waits for an operator.
        String first = awaitLoop(rule("cli-loop-a"));
        String shown = ok("loops", "show", first).out();
        assertTrue(shown.contains("AWAITING_APPROVAL") && shown.contains("rule cli-loop-a metric P95_LATENCY_MS"), shown);
        Run rejected = ok("loops", "reject", first, "--reason", "cli test");
        assertTrue(rejected.out().startsWith("loop " + first + ": REJECTED"), rejected.out());
        Run again = cli("loops", "reject", first);
        assertEquals(ExitCode.CONFLICT, again.code(), "a rejected loop is not awaiting approval: " + again);

        // a second rule fires, a second loop waits (a rejected loop did no work: no cooldown), and is approved
        String second = awaitLoop(rule("cli-loop-b"));
        Run approved = ok("loops", "approve", second);
        assertTrue(approved.out().matches("loop " + second + ": (READY|PLANNING) .*\n"), approved.out());
        String table = ok("loops", "list", "--class", CLASS).out();
        assertTrue(table.lines().anyMatch(l -> l.startsWith(first + " ") && l.contains("REJECTED")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith(second + " ")), table);
        assertEquals(ExitCode.NOT_FOUND, cli("loops", "approve", "no-such-loop").code());

        // switched off, the class starts nothing more; the rules go
        assertEquals("class " + CLASS + ": loop mode off\n", ok("classes", "loop", CLASS, "--mode", "off").out());
        fleet.api().send("DELETE", "/api/v1/alert-rules/cli-loop-a").expect(204);
        fleet.api().send("DELETE", "/api/v1/alert-rules/cli-loop-b").expect(204);
    }

    private static String rule(String id) {
        var rule = Api.JSON.createObjectNode().put("id", id).put("metric", "P95_LATENCY_MS").put("scope", "VERSION")
                .put("classId", CLASS).put("threshold", 0.001).put("lookbackSeconds", 60).put("action", "RECOMPRESS");
        fleet.api().post("/api/v1/alert-rules", rule).expect(201);
        return id;
    }

    /** The loop the rule's alert opened, once it awaits approval. */
    private static String awaitLoop(String ruleId) {
        String[] id = new String[1];
        io.edgefleet.it.Await.until(TIMEOUT, "a loop of rule " + ruleId + " awaiting approval", () -> {
            for (JsonNode l : ok("loops", "list", "--class", CLASS, "--state", "awaiting_approval", "--json").json()) {
                if (ruleId.equals(l.path("ruleId").asText())) {
                    id[0] = l.path("id").asText();
                    return true;
                }
            }
            return false;
        }, () -> cli("loops", "list", "--class", CLASS).out());
        return id[0];
    }
}
