package io.edgefleet.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real Mosquitto started from {@code deploy/mosquitto/mosquitto.conf}, copied into a temporary
 * directory with only its {@code listener} line changed (free loopback port), so the tests exercise
 * the shipped authentication, ACL, persistence and packet-size settings. The password file and ACL
 * start with the server's user only; {@link #syncCredentials} then installs what the server renders.
 */
public final class MosquittoBroker extends TestBroker {
    static final String SERVER_USER = "edgefleet-it-server";
    /**
     * A second login with the server's rights, for tests that publish as the server would. It cannot
     * be the server's own user: the shipped config ties the client id to the user name
     * ({@code use_username_as_clientid}), so a second connection as the server would take over its session.
     */
    static final String TOOL_USER = "edgefleet-it-tool";
    /** A second server replica's own login: each replica needs its own, for the same reason as {@link #TOOL_USER}. */
    static final String REPLICA_USER = "edgefleet-it-replica";
    private static final Pattern LISTENER = Pattern.compile("(?m)^listener 1883$");

    private final String name;
    private final Path dir;
    private final Path logFile;
    private final List<String> command;
    private Process process;
    private final int port;
    private final String serverPassword;
    private String toolPassword;
    private String replicaPassword;
    private Path passwdTool;

    private MosquittoBroker(String name, Path dir, Path logFile, List<String> command, int port, String serverPassword) {
        this.name = name;
        this.dir = dir;
        this.logFile = logFile;
        this.command = List.copyOf(command);
        this.port = port;
        this.serverPassword = serverPassword;
    }

    static MosquittoBroker start(String name, Path binary) {
        try {
            Path dir = Files.createTempDirectory("edgefleet-mosquitto-" + name + "-");
            // Started as root, mosquitto drops to its own user: it must still reach the config and its data dir.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path data = Files.createDirectories(dir.resolve("data"));
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxrwxrwx"));

            int port = Net.freePort();
            String conf = Files.readString(Repo.mosquittoConf(), StandardCharsets.UTF_8);
            Matcher m = LISTENER.matcher(conf);
            if (!m.find()) {
                throw new IllegalStateException(Repo.mosquittoConf() + " must contain the line 'listener 1883'"
                        + " (the tests rewrite exactly that line)");
            }
            String rewritten = m.replaceFirst("listener " + port + " 127.0.0.1");
            if (LISTENER.matcher(rewritten).find()) {
                throw new IllegalStateException(Repo.mosquittoConf() + " has more than one 'listener 1883' line");
            }
            writeReadable(dir.resolve("mosquitto.conf"), rewritten);

            String serverPassword = randomSecret();
            run(List.of(passwdTool(binary).toString(), "-b", "-c", dir.resolve("passwd").toString(),
                    SERVER_USER, serverPassword));
            String toolPassword = randomSecret();
            run(List.of(passwdTool(binary).toString(), "-b", dir.resolve("passwd").toString(), TOOL_USER, toolPassword));
            String replicaPassword = randomSecret();
            run(List.of(passwdTool(binary).toString(), "-b", dir.resolve("passwd").toString(), REPLICA_USER,
                    replicaPassword));
            Files.setPosixFilePermissions(dir.resolve("passwd"), PosixFilePermissions.fromString("rw-r--r--"));
            writeReadable(dir.resolve("acl"), serverAcl());

            Path logFile = Repo.buildDir().resolve("mosquitto-" + name + ".log");
            Files.deleteIfExists(logFile);
            List<String> cmd = new ArrayList<>();
            // Line-buffer mosquitto's stdout so its log (and "Reloading config.") is visible while it runs.
            Path stdbuf = Path.of("/usr/bin/stdbuf");
            if (Files.isExecutable(stdbuf)) {
                cmd.addAll(List.of(stdbuf.toString(), "-oL"));
            }
            cmd.addAll(List.of(binary.toString(), "-c", "mosquitto.conf"));
            MosquittoBroker broker = new MosquittoBroker(name, dir, logFile, cmd, port, serverPassword);
            broker.toolPassword = toolPassword;
            broker.replicaPassword = replicaPassword;
            broker.passwdTool = passwdTool(binary);
            broker.launch();
            return broker;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start mosquitto", e);
        }
    }

    private void launch() throws IOException {
        process = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
        awaitListening(Duration.ofSeconds(10));
    }

    /** Stops the broker cleanly (it saves its persistence file) and starts it again on the same port and files. */
    public synchronized void restart() {
        stopProcess();
        try {
            launch();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restart mosquitto", e);
        }
    }

    /**
     * SIGKILL, then the same broker again on the same port and files: what it had not saved to its persistence
     * file (autosave) is gone, including messages it already acknowledged to publishers.
     */
    public synchronized void killAndRestart(Duration down) {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
            Thread.sleep(down.toMillis());
            launch();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restart mosquitto", e);
        }
        Log.info("mosquitto " + name + " killed (SIGKILL) and restarted after " + down.toMillis() + " ms");
    }

    public int port() {
        return port;
    }

    public String url() {
        return "tcp://127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    public Path dir() {
        return dir;
    }

    @Override
    public Map<String, String> serverProperties() {
        return Map.of(
                "edgefleet.mqtt.url", url(),
                "edgefleet.mqtt.username", SERVER_USER,
                "edgefleet.mqtt.password", serverPassword,
                "edgefleet.mqtt.advertised-url", url());
    }

    @Override
    public Map<String, String> replicaServerProperties() {
        return Map.of(
                "edgefleet.mqtt.url", url(),
                "edgefleet.mqtt.username", REPLICA_USER,
                "edgefleet.mqtt.password", replicaPassword,
                "edgefleet.mqtt.advertised-url", url());
    }

    @Override
    public Optional<Login> serverLogin() {
        return Optional.of(new Login(TOOL_USER, toolPassword));
    }

    @Override
    public boolean isMosquitto() {
        return true;
    }

    @Override
    public String description() {
        return "Mosquitto " + url() + " (pid " + pid() + ", deploy/mosquitto/mosquitto.conf, log " + logFile + ")";
    }

    /**
     * Installs the server's rendered password file and ACL and reloads the broker. The server user is
     * kept even if the server does not render it (it is not configured there), because a reload without
     * it would disconnect the server; the tool user is always added, the replica's only until the server
     * renders it (every replica records its broker user at start).
     */
    @Override
    public synchronized void syncCredentials(Api api) {
        String passwd = api.get("/api/v1/broker/mosquitto/passwd").text(200);
        String acl = api.get("/api/v1/broker/mosquitto/acl").text(200);
        boolean serverInPasswd = passwd.lines().anyMatch(l -> l.startsWith(SERVER_USER + ":"));
        boolean serverInAcl = acl.lines().anyMatch(l -> l.trim().equals("user " + SERVER_USER));
        String ourPasswdLine = Files.exists(dir.resolve("passwd")) ? readLine(SERVER_USER) : null;
        String toolLine = Files.exists(dir.resolve("passwd")) ? readLine(TOOL_USER) : null;
        String replicaLine = Files.exists(dir.resolve("passwd")) ? readLine(REPLICA_USER) : null;
        if (!serverInPasswd) {
            passwd = (passwd.endsWith("\n") || passwd.isEmpty() ? passwd : passwd + "\n") + ourPasswdLine + "\n";
        }
        passwd = (passwd.endsWith("\n") || passwd.isEmpty() ? passwd : passwd + "\n") + toolLine + "\n";
        // A replica that has started recorded its user and the server renders it; before that, keep the bootstrap
        // line so the replica can log in at its first start (an operator adds a new replica's user the same way).
        boolean replicaRendered = passwd.lines().anyMatch(l -> l.startsWith(REPLICA_USER + ":"));
        if (!replicaRendered && replicaLine != null) {
            passwd = passwd + replicaLine + "\n";
        }
        if (!serverInAcl) {
            acl = userAcl(SERVER_USER) + "\n" + acl;
        }
        acl = acl + "\n" + userAcl(TOOL_USER) + (replicaRendered ? "" : "\n" + userAcl(REPLICA_USER));
        if (passwd.equals(readOrNull(dir.resolve("passwd"))) && acl.equals(readOrNull(dir.resolve("acl")))) {
            // Nothing changed: no reload, as deploy/mosquitto/sync-credentials.sh does. Mosquitto's reload re-parses
            // the ACL with a linear search per user (gdb: mosquitto_security_init_default in strcmp); with 15,000
            // users one reload kept its main loop busy for minutes at load average 25, and a sync every 5 s kept
            // the 10,000-agent benchmark's agents out (docs/scale.md).
            return;
        }
        installCredentials(passwd, acl);
    }

    private static String readOrNull(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Adds device logins without a server (for tests that play the server with the tool login): each gets a
     * random password and the device ACL the server renders (its own device topics, its class's artifacts).
     * Returns the passwords in the order of {@code deviceIds}; one reload for all.
     */
    public synchronized List<String> addDevices(String classId, List<String> deviceIds) {
        List<String> passwords = new ArrayList<>();
        StringBuilder acl = new StringBuilder();
        try {
            acl.append(Files.readString(dir.resolve("acl"), StandardCharsets.UTF_8));
            // Plain "user:password" lines hashed in place by one mosquitto_passwd -U, then appended: one
            // process for a thousand devices instead of one each.
            Path plain = Files.createTempFile(dir, ".devices", ".passwd");
            StringBuilder lines = new StringBuilder();
            for (String id : deviceIds) {
                String pw = randomSecret();
                passwords.add(pw);
                lines.append(id).append(':').append(pw).append('\n');
            }
            Files.writeString(plain, lines.toString(), StandardCharsets.UTF_8);
            run(List.of(passwdTool.toString(), "-U", plain.toString()));
            String existing = Files.readString(dir.resolve("passwd"), StandardCharsets.UTF_8);
            replace(dir.resolve("passwd"), (existing.endsWith("\n") ? existing : existing + "\n")
                    + Files.readString(plain, StandardCharsets.UTF_8));
            Files.delete(plain);
            // As the server renders it: the device topics once as %u patterns, per device only its class's artifacts.
            if (!acl.toString().contains(DEVICE_PATTERNS)) {
                acl.append('\n').append(DEVICE_PATTERNS);
            }
            for (String id : deviceIds) {
                acl.append("\nuser ").append(id).append('\n')
                        .append("topic read edgefleet/v1/classes/").append(classId).append("/artifacts/#\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot add devices to " + dir, e);
        }
        replace(dir.resolve("acl"), acl.toString());
        reload();
        return passwords;
    }

    /** The device-topic patterns of the server's ACL (MosquittoConfigRenderer), for devices added without a server. */
    static final String DEVICE_PATTERNS = "pattern write edgefleet/v1/devices/%u/status\n"
            + "pattern write edgefleet/v1/devices/%u/events\n"
            + "pattern write edgefleet/v1/devices/%u/telemetry\n"
            + "pattern write edgefleet/v1/devices/%u/benchmark\n"
            + "pattern write edgefleet/v1/devices/%u/capture\n"
            + "pattern read edgefleet/v1/devices/%u/cmd\n"
            + "pattern read edgefleet/v1/devices/%u/ack\n";

    /** Replaces the password file and ACL atomically and reloads the broker. */
    public synchronized void installCredentials(String passwd, String acl) {
        replace(dir.resolve("passwd"), passwd);
        replace(dir.resolve("acl"), acl);
        reload();
    }

    /** SIGHUP makes mosquitto re-read the password file and ACL; wait until it has done so. */
    public synchronized void reload() {
        int before = reloadsLogged();
        run(List.of("kill", "-HUP", Long.toString(pid())));
        awaitReloadsLogged(before + 1);
    }

    /** How often mosquitto has logged a config reload since it started (whoever sent the SIGHUP). */
    public int reloadsLogged() {
        return countInLog("Reloading config.");
    }

    /**
     * How long a reload may take to show in the log. A fleet of thousands of devices makes Mosquitto's log long
     * (a line per connect and disconnect) and its reload of thousands of users slow on a loaded machine; the wait
     * ends as soon as the line is there. {@code -Dedgefleet.it.broker-reload-timeout} (seconds).
     */
    static final long RELOAD_TIMEOUT_SECONDS = Long.getLong("edgefleet.it.broker-reload-timeout", 60);

    /** Waits until the log shows {@code count} reloads, then a moment more: the line precedes the re-read. */
    public void awaitReloadsLogged(int count) {
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(RELOAD_TIMEOUT_SECONDS);
        while (System.nanoTime() < deadline && reloadsLogged() < count) {
            sleep(50);
        }
        if (reloadsLogged() < count) {
            throw new IllegalStateException("mosquitto did not log a config reload within " + RELOAD_TIMEOUT_SECONDS
                    + " s (-Dedgefleet.it.broker-reload-timeout):\n" + logTail());
        }
        sleep(200);
    }

    @Override
    public void close() {
        stopProcess();
        deleteTree(dir);
        Log.info("mosquitto " + name + " stopped");
    }

    private void stopProcess() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private String readLine(String user) {
        try {
            return Files.readAllLines(dir.resolve("passwd")).stream()
                    .filter(l -> l.startsWith(user + ":"))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException(user + " missing from " + dir.resolve("passwd")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitListening(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("mosquitto exited with " + process.exitValue() + ":\n" + logTail());
            }
            if (Net.accepts("127.0.0.1", port, 200)) {
                return;
            }
            sleep(50);
        }
        stopProcess();
        throw new IllegalStateException("mosquitto did not listen on " + port + " within " + timeout + ":\n" + logTail());
    }

    /** Per needle: the lines counted so far and where the scan stopped (a fleet's log grows to many megabytes). */
    private final Map<String, LogCount> logCounts = new java.util.HashMap<>();

    private static final class LogCount {
        long offset;
        int count;
    }

    /**
     * Lines of the log containing {@code needle}, read incrementally: only what was appended since the last call,
     * up to its last complete line. Re-reading the whole log every 50 ms made a 10,000-device run's credential
     * sync miss the reload (session 8).
     */
    private synchronized int countInLog(String needle) {
        LogCount c = logCounts.computeIfAbsent(needle, k -> new LogCount());
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(logFile)) {
            long size = ch.size();
            if (size < c.offset) { // replaced: count from the start
                c.offset = 0;
                c.count = 0;
            }
            ch.position(c.offset);
            java.io.InputStream in = java.nio.channels.Channels.newInputStream(ch);
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, size - c.offset));
            int lastNewline = -1;
            for (int i = bytes.length - 1; i >= 0; i--) {
                if (bytes[i] == '\n') {
                    lastNewline = i;
                    break;
                }
            }
            if (lastNewline < 0) {
                return c.count;
            }
            String text = new String(bytes, 0, lastNewline + 1, StandardCharsets.UTF_8);
            for (int from = text.indexOf(needle); from >= 0; from = text.indexOf(needle, from + needle.length())) {
                c.count++;
            }
            c.offset += lastNewline + 1;
            return c.count;
        } catch (IOException e) {
            return c.count;
        }
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static String serverAcl() {
        return userAcl(SERVER_USER) + "\n" + userAcl(TOOL_USER) + "\n" + userAcl(REPLICA_USER);
    }

    static String userAcl(String user) {
        return "user " + user + "\n"
                + "topic readwrite edgefleet/#\n"
                + "topic readwrite $share/edgefleet/edgefleet/#\n"
                // the tool login also reads the broker's own counters (benchmarks: $SYS/broker/bytes/sent)
                + (user.equals(TOOL_USER) ? "topic read $SYS/#\n" : "");
    }

    private static Path passwdTool(Path mosquitto) {
        for (Path candidate : List.of(Path.of("/usr/bin/mosquitto_passwd"), mosquitto.resolveSibling("mosquitto_passwd"))) {
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("mosquitto is installed but mosquitto_passwd is not (needed to hash the server password)");
    }

    private static void replace(Path target, String content) {
        try {
            Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }

    private static void writeReadable(Path file, String content) throws IOException {
        Files.writeString(file, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }

    static void run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd.subList(0, Math.min(2, cmd.size())))
                        + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static String randomSecret() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // Best effort: a leftover temp file must not fail a test run.
                }
            });
        } catch (IOException ignored) {
            // Same as above.
        }
    }
}
