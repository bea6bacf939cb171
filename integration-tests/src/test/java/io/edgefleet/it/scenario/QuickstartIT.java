package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.it.Api;
import io.edgefleet.it.Log;
import io.edgefleet.it.Net;
import io.edgefleet.it.Repo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * README command 1 as a user runs it, scaled down: {@code SimulatorMain quickstart} starts the packaged server (demo
 * data, embedded broker, H2) and its agents, rolls out to both classes, drifts the boards' inputs; the drift alert
 * opens a closed loop that re-plans the board's variant on the class's fresh data, canaries it and promotes it. The
 * test reads the quickstart's own output (the lines a user sees) and checks the server's state through the API.
 */
// Opt-in (-Dit.quickstart=true): the whole story takes about two minutes (server start, two rollouts in waves, the
// drift, a loop with two 10 s canary waves).
@EnabledIfSystemProperty(named = "it.quickstart", matches = "true")
class QuickstartIT {
    static final Duration TIMEOUT = Duration.ofMinutes(6);
    /** Seconds after the agents start: the boards' own rollout (two waves, 2 s soak) is over by then. */
    static final int DRIFT_AFTER = 45;
    static final Pattern TOKEN = Pattern.compile("export T=(\\S+)");
    /** A loop's line once it ended, however it ended (the test then checks it was promoted). */
    static final Pattern LOOP_ENDED = Pattern.compile(
            "==> LOOP (\\S+ (?:PROMOTED|ROLLED_BACK|NO_CHOICE|FAILED|SKIPPED|BACKED_OFF|REJECTED))");

    Process quickstart;
    Path log;

    @AfterEach
    void stop() throws InterruptedException {
        if (quickstart != null) {
            quickstart.destroy(); // SIGTERM: its shutdown hook stops the agents and the server
            if (!quickstart.waitFor(60, TimeUnit.SECONDS)) {
                quickstart.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void theBoardsDriftFiresAnAlertWhoseClosedLoopRecalibratesCanariesAndPromotes() throws Exception {
        int port = Net.freePort();
        Path data = Files.createTempDirectory("edgefleet-quickstart-");
        log = Repo.buildDir().resolve("quickstart-it.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-cp", Files.readString(Repo.buildDir().resolve("test-classpath.txt")).trim(),
                "io.edgefleet.simulator.SimulatorMain", "quickstart", "--server-jar", Repo.serverJar().toString(),
                "--port", Integer.toString(port), "--data-dir", data.toString(), "--agents", "4", "--boards", "2",
                "--soak", "2", "--drift-after", Integer.toString(DRIFT_AFTER)));
        long launched = System.currentTimeMillis();
        quickstart = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();

        String token = awaitMatch(TOKEN, "the banner with the token");
        String out = Files.readString(log);
        assertTrue(out.contains("http://localhost:" + port + "/console/loops"), "the banner names the loops page: " + out);
        String ended = awaitMatch(LOOP_ENDED, "the loop's end");
        String loopId = ended.split(" ")[0];
        assertTrue(ended.endsWith(" PROMOTED"), () -> "the loop ended " + ended + ":\n" + tail(read()));
        long promotedSeen = System.currentTimeMillis();
        out = Files.readString(log);
        assertTrue(out.contains("==> ALERT EdgefleetDriftHigh (warning) firing for class=demo-board"), out);
        assertTrue(out.contains("==> LOOP " + loopId + " CANARY"), out);
        assertTrue(out.lines().noneMatch(l -> l.contains(" INFO ")), "no agent INFO lines: " + out);

        Api api = new Api("http://localhost:" + port, token);
        JsonNode loop = api.get("/api/v1/loops/" + loopId).expect(200);
        assertEquals("PROMOTED", loop.path("state").asText(), loop::toPrettyString);
        assertEquals("demo-board", loop.path("classId").asText());
        assertEquals("demo-drift-demo-board", loop.path("ruleId").asText());
        assertEquals("RECALIBRATE", loop.path("strategy").asText(), loop::toPrettyString);
        assertEquals("demo-board-drifted-1.00", loop.path("calibrationDataset").asText(), loop::toPrettyString);
        List<String> states = new ArrayList<>();
        loop.path("history").forEach(h -> states.add(h.path("state").asText()));
        assertEquals(List.of("READY", "PLANNING", "GATED", "CANARY"), states.subList(0, 4), loop::toPrettyString);
        long fromVersion = loop.path("fromVersion").asLong();
        long recalibrated = loop.path("resultVersion").asLong();
        assertTrue(recalibrated > fromVersion, loop::toPrettyString);
        // the board's variant was planned by the demo (its plan's datasets), the recalibrated one replaced it
        JsonNode variants = api.get("/api/v1/device-classes/demo-board/variants").expect(200);
        assertEquals(recalibrated, variants.get(0).path("version").asLong(), variants::toPrettyString);
        boolean planned = false;
        for (JsonNode p : api.get("/api/v1/plans?model=demo-classifier").expect(200)) {
            planned |= p.path("resultVersion").asLong() == fromVersion && "demo-validation".equals(
                    p.path("validationDataset").asText()) && "demo-calibration".equals(p.path("calibrationDataset").asText());
        }
        assertTrue(planned, "the boards' first variant came from the demo plan");
        for (JsonNode d : api.listAll("/api/v1/devices?classId=demo-board")) {
            assertEquals(recalibrated, d.path("active").path("version").asLong(), d::toPrettyString);
        }
        for (JsonNode d : api.listAll("/api/v1/devices?classId=demo-gateway")) {
            assertEquals(1, d.path("active").path("version").asLong(), "the gateways keep v1: " + d);
        }
        Log.info(String.format("QUICKSTART-TIMING launch -> alert fired %d ms -> loop created %d ms -> canary committed"
                        + " %d ms -> PROMOTED %d ms (line seen %d ms); drift scheduled %d s after the agents started",
                loop.path("alertFiredAt").asLong() - launched, loop.path("createdAt").asLong() - launched,
                loop.path("canaryCommittedAt").asLong() - launched, loop.path("finishedAt").asLong() - launched,
                promotedSeen - launched, DRIFT_AFTER));
    }

    /** Waits for the quickstart's output to match; fails with its tail when it exits or the time is up. */
    String awaitMatch(Pattern p, String what) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String out = Files.exists(log) ? Files.readString(log) : "";
            Matcher m = p.matcher(out);
            if (m.find()) {
                return m.group(1);
            }
            if (!quickstart.isAlive()) {
                throw new AssertionError("the quickstart exited with " + quickstart.exitValue() + " before " + what
                        + ":\n" + tail(out));
            }
            Thread.sleep(1000);
        }
        throw new AssertionError("timed out waiting for " + what + ":\n" + tail(Files.readString(log)));
    }

    String read() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static String tail(String out) {
        List<String> lines = out.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
