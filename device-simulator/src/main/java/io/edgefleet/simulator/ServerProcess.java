package io.edgefleet.simulator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The edgefleet server as a child process, its output in a log file, stopped (then killed) on close. */
public final class ServerProcess implements AutoCloseable {
    private final Process process;
    private final Path log;

    private ServerProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** The command line that runs the server jar with the quickstart settings. */
    public static List<String> command(Path serverJar, Path dataDir, String token, int port) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.add("-Dedgefleet.data-dir=" + dataDir.toAbsolutePath());
        cmd.add("-Dedgefleet.api.token=" + token);
        cmd.add("-Dedgefleet.demo.enabled=true");
        cmd.add("-Dedgefleet.alerts.evaluation-interval=5s"); // the demo's alerts show within seconds
        // the closed loop the drift alert opens: a pass every 2 s, and its canary waves judged on one telemetry window
        // after a 10 s soak (production: 10 s, 3 windows, 300 s), so it is promoted within minutes, not 20
        cmd.add("-Dedgefleet.loop.interval=2s");
        cmd.add("-Dedgefleet.loop.canary-soak-seconds=10");
        cmd.add("-Dedgefleet.loop.canary-min-windows=1");
        cmd.add("-Dquarkus.http.port=" + port);
        cmd.add("-jar");
        cmd.add(serverJar.toAbsolutePath().toString());
        return cmd;
    }

    static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    public static ServerProcess start(List<String> command, Path log) throws IOException {
        Files.createDirectories(log.toAbsolutePath().getParent());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return new ServerProcess(pb.start(), log);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    /**
     * Waits until the server answers ready; fails early, with the end of its log, when it exits.
     */
    public void awaitReady(ServerApi api, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            if (!process.isAlive()) {
                throw new ApiException(0, null, "the server exited with code " + process.exitValue()
                        + " before it was ready; last lines of " + log + ":\n" + tail(30));
            }
            if (api.ready()) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new ApiException(0, null, "the server was not ready within " + timeoutMs / 1000 + " s; last lines of "
                        + log + ":\n" + tail(30));
            }
            Thread.sleep(500);
        }
    }

    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    /** SIGTERM, a grace period, then SIGKILL; the child never outlives the simulator's orderly exit. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
