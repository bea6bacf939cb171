package io.edgefleet.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged Quarkus server ({@code server/app/target/quarkus-app/quarkus-run.jar}) run as a real
 * process with {@code java -jar}, configured only through system properties and environment, the way
 * an operator runs it. Its output goes to {@code integration-tests/target/server-<name>.log}.
 */
public final class ServerProcess implements AutoCloseable {
    private final String name;
    private volatile Process process;
    private final Path dataDir;
    private final Path logFile;
    private final int port;
    private final String token;
    private final List<String> command;
    private final Map<String, String> env;

    private ServerProcess(String name, Process process, Path dataDir, Path logFile, int port, String token,
                          List<String> command, Map<String, String> env) {
        this.name = name;
        this.process = process;
        this.dataDir = dataDir;
        this.logFile = logFile;
        this.port = port;
        this.token = token;
        this.command = command;
        this.env = env;
    }

    /** SIGKILL, as a crash or an OOM killer would: no shutdown hook runs, nothing is drained. */
    public void kill() {
        Process p = process;
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Log.info("server " + name + " killed (SIGKILL, pid " + p.pid() + ")");
    }

    /** Starts the same server again: same data dir (so the same MQTT client id and session), port and token. */
    public void restart() {
        relaunch();
        awaitRestarted();
    }

    /** {@link #restart}'s first half: the process is started, nothing is waited for. */
    public void relaunch() {
        if (process.isAlive()) {
            throw new IllegalStateException("server " + name + " is still running");
        }
        try {
            process = launch(command, dataDir, logFile, env, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restart the server", e);
        }
    }

    /** {@link #restart}'s second half: returns once the relaunched server is ready. */
    public void awaitRestarted() {
        awaitReady(Duration.ofSeconds(Long.getLong("edgefleet.it.server-start-timeout", 120)));
        Log.info("server " + name + " restarted (pid " + process.pid() + ")");
    }

    private static Process launch(List<String> cmd, Path dataDir, Path logFile, Map<String, String> env, boolean append)
            throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dataDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(append ? ProcessBuilder.Redirect.appendTo(logFile.toFile())
                        : ProcessBuilder.Redirect.to(logFile.toFile()));
        pb.environment().putAll(env);
        return pb.start();
    }

    /**
     * Starts the server and waits until {@code /q/health/ready} answers 200.
     *
     * @param properties extra {@code -D} properties (broker settings)
     * @param env        extra environment (database settings)
     */
    public static ServerProcess start(String name, Map<String, String> properties, Map<String, String> env) {
        Path jar = Repo.serverJar();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("The packaged server is missing: " + jar + "\nBuild it first: "
                    + "./mvnw -B -q -pl server/app -am install -DskipTests   (or run ./mvnw verify from the repository root)");
        }
        try {
            Path dataDir = Files.createTempDirectory("edgefleet-server-" + name + "-");
            int port = Net.freePort();
            String token = properties.getOrDefault("edgefleet.api.token", "it-" + MosquittoBroker.randomSecret());

            Map<String, String> props = new LinkedHashMap<>();
            props.put("edgefleet.data-dir", dataDir.toString());
            props.put("edgefleet.api.token", token);
            props.put("quarkus.http.host", "127.0.0.1");
            props.put("quarkus.http.port", Integer.toString(port));
            props.putAll(properties);

            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            // Two cores are shared by everything in this run: a small heap and the serial collector.
            cmd.add("-Xmx512m");
            cmd.add("-XX:+UseSerialGC");
            // Extra JVM flags for a run, e.g. -Dedgefleet.it.server-jvm-args="-XX:StartFlightRecording=filename=x.jfr".
            String extra = System.getProperty("edgefleet.it.server-jvm-args", "").trim();
            if (!extra.isEmpty()) {
                cmd.addAll(java.util.Arrays.asList(extra.split("\\s+")));
            }
            props.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
            cmd.add("-jar");
            cmd.add(jar.toString());

            Path logFile = Repo.buildDir().resolve("server-" + name + ".log");
            Process p = launch(cmd, dataDir, logFile, env, false);
            ServerProcess server = new ServerProcess(name, p, dataDir, logFile, port, token, List.copyOf(cmd),
                    Map.copyOf(env));
            server.awaitReady(Duration.ofSeconds(Long.getLong("edgefleet.it.server-start-timeout", 120)));
            Log.info("server " + name + " ready at " + server.baseUrl() + " (pid " + p.pid() + ", log " + logFile + ")");
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the server", e);
        }
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public String token() {
        return token;
    }

    public Api api() {
        return new Api(baseUrl(), token);
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return logFile;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM (Quarkus shuts down gracefully), then SIGKILL if it does not stop in time. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    Log.info("server " + name + " did not stop within 20 s; killing it");
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        MosquittoBroker.deleteTree(dataDir);
        Log.info("server " + name + " stopped");
    }

    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private void awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create(baseUrl() + "/q/health/ready"))
                .timeout(Duration.ofSeconds(5)).GET().build();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer yet";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("server " + name + " exited with code " + process.exitValue()
                        + " before it was ready; last log lines:\n" + logTail(60));
            }
            try {
                HttpResponse<String> r = http.send(ready, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the server", e);
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the server", e);
            }
        }
        close();
        throw new IllegalStateException("server " + name + " not ready within " + timeout + " (last: " + last
                + "); last log lines:\n" + logTail(60));
    }
}
