package io.edgefleet.it.bench;

import io.edgefleet.it.Log;
import io.edgefleet.it.MosquittoBroker;
import io.edgefleet.it.TestBroker;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * How long a credential reload (SIGHUP) keeps Mosquitto from serving its clients, by fleet size and by file
 * (issue 11). One command, from the repository root (after the README's build command):
 * <pre>ulimit -n 20000; ./mvnw -B -q -pl integration-tests -am -Pbench-reload process-test-classes</pre>
 * Options: {@code -Dbench.devices=1000,5000,10000} (fleet sizes), {@code -Dbench.repeats=3} (reloads per row, the
 * row shows medians), {@code -Dbench.reload-timeout=900} (seconds one
 * reload may take before the harness gives up on it).
 *
 * <p>For each size it starts a Mosquitto from {@code deploy/mosquitto/mosquitto.conf} on a free port (the
 * integration tests' {@link MosquittoBroker}, its own temporary directory), hashes N device passwords with
 * {@code mosquitto_passwd}, and times reloads of these file sets:
 * <ul>
 *   <li>{@code passwd}: the N devices' password file, an ACL with the server users only (the password file's cost);
 *   <li>{@code acl-blocks}: the server users' password file, the N devices' ACL as the server rendered it before
 *       issue 11 (a {@code user} block of eight {@code topic} lines per device: the ACL's cost);
 *   <li>{@code both-blocks}: both files as before issue 11;
 *   <li>{@code both-patterns}: both files as the server renders them now ({@code pattern} lines with {@code %u} for
 *       every device's own topics once, then one {@code user} line and its class's artifact filter per device).
 * </ul>
 * first with no device connected (what the reload itself costs), then with all N devices connected (what a
 * production broker does on top: it re-applies the credentials and ACL to every connected client). One reload is
 * timed as: SIGHUP sent, then as soon as the broker logs {@code Reloading config.} a client that was connected
 * before (the server's login) publishes to a topic it subscribes to and a new device connects; the figures are the
 * times from the SIGHUP to the publish coming back and to the new device's CONNACK. The broker is single-threaded:
 * while it re-reads, the server's connection carries nothing, which is what made the server's keep-alive expire.
 *
 * <p>The clients are minimal MQTT 3.1.1 socket clients with keep-alive 0 (no pings), so a slow reload cannot
 * disconnect them and one JVM holds 10,000 of them without a thread each. The broker and this JVM each hold one
 * socket per connected device: run with {@code ulimit -n} above N + a few hundred.
 */
public final class BrokerReloadBenchmark {
    static final String DEVICES = System.getProperty("bench.devices", "1000,5000,10000");
    static final long RELOAD_TIMEOUT_S = Long.getLong("bench.reload-timeout", 900);
    static final String CLASS_PREFIX = "reload-class-";
    /** Devices are spread over this many classes, like a fleet of a few board types. */
    static final int CLASSES = 10;
    static final String PROBE_TOPIC = "edgefleet/v1/bench/reload-probe";
    static final String PROBE_DEVICE = "reload-probe-device";

    private BrokerReloadBenchmark() {
    }

    record Row(int devices, int connected, String files, long aclBytes, double roundTripS, double connackS, double cpuS,
               String load) {
    }

    public static void main(String[] args) throws Exception {
        if (!TestBroker.isMosquittoInstalled()) {
            throw new IllegalStateException("the reload benchmark needs the machine's Mosquitto (/usr/sbin/mosquitto)");
        }
        List<Row> rows = new ArrayList<>();
        for (String s : DEVICES.split(",")) {
            int n = Integer.parseInt(s.trim());
            rows.addAll(measure(n));
            print(rows);
        }
        print(rows);
    }

    static List<Row> measure(int n) throws Exception {
        List<Row> rows = new ArrayList<>();
        MosquittoBroker broker = (MosquittoBroker) TestBroker.mosquitto("reload-" + n);
        List<Socket> devices = new ArrayList<>();
        try {
            Path dir = broker.dir();
            String basePasswd = ensureNewline(Files.readString(dir.resolve("passwd")));
            String baseAcl = ensureNewline(Files.readString(dir.resolve("acl")));
            Map<String, String> server = broker.serverProperties();
            String serverUser = server.get("edgefleet.mqtt.username");
            String serverPassword = server.get("edgefleet.mqtt.password");

            List<String> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ids.add(String.format(Locale.ROOT, "dev-%05d", i));
            }
            String probePassword = "probe-" + Long.toHexString(System.nanoTime());
            List<String> plain = new ArrayList<>();
            List<String> passwords = new ArrayList<>();
            for (String id : ids) {
                String pw = "pw-" + id + "-" + Long.toHexString(Double.doubleToLongBits(Math.random()));
                passwords.add(pw);
                plain.add(id + ":" + pw);
            }
            String probeLine = hash(dir, List.of(PROBE_DEVICE + ":" + probePassword));
            String devicePasswd = hash(dir, plain);

            String passwdServers = basePasswd + probeLine;
            String passwdAll = passwdServers + devicePasswd;
            List<String> all = new ArrayList<>(ids);
            all.add(PROBE_DEVICE);
            String aclBlocks = baseAcl + blocksAcl(all);
            String aclPatterns = baseAcl + patternsAcl(all);

            try (Probe probe = Probe.connect(broker.port(), serverUser, serverPassword)) {
                probe.subscribe(PROBE_TOPIC);
                probe.roundTrip(30_000); // warm

                record FileSet(String name, String passwd, String acl) {
                }
                List<FileSet> idle = List.of(
                        new FileSet("passwd", passwdAll, baseAcl),
                        new FileSet("acl-blocks", passwdServers, aclBlocks),
                        new FileSet("both-blocks", passwdAll, aclBlocks),
                        new FileSet("both-patterns", passwdAll, aclPatterns));
                for (FileSet f : idle) {
                    rows.add(reload(broker, probe, n, 0, f.name(), f.passwd(), f.acl(), probePassword));
                }
                // All devices connected: patterns first (the faster reload), then the old blocks.
                install(dir, passwdAll, aclPatterns);
                hupAndWait(broker, probe);
                long t0 = System.nanoTime();
                devices.addAll(connectAll(broker.port(), ids, passwords));
                Log.info(String.format(Locale.ROOT, "%d devices connected in %.1f s", devices.size(),
                        (System.nanoTime() - t0) / 1e9));
                List<FileSet> busy = List.of(
                        new FileSet("passwd", passwdAll, baseAcl),
                        new FileSet("both-patterns", passwdAll, aclPatterns),
                        new FileSet("both-blocks", passwdAll, aclBlocks));
                for (FileSet f : busy) {
                    rows.add(reload(broker, probe, n, devices.size(), f.name(), f.passwd(), f.acl(), probePassword));
                }
                int dropped = countClosed(devices);
                if (dropped > 0) {
                    Log.info(dropped + " of " + devices.size() + " devices were disconnected by the reloads");
                    rows.add(new Row(n, devices.size(), "DISCONNECTED " + dropped, 0, Double.NaN, Double.NaN, Double.NaN,
                            load()));
                }
            }
        } finally {
            for (Socket s : devices) {
                closeQuietly(s);
            }
            broker.close();
        }
        return rows;
    }

    /**
     * Installs the files, then {@code bench.repeats} times: SIGHUP and the broker timed back to serving (see the class
     * comment). The row holds the medians, and the broker's CPU time (user + system) over the reload: the load-free
     * figure, since on a loaded machine the broker gets only a share of a core and the wall time stretches with it.
     */
    static Row reload(MosquittoBroker broker, Probe probe, int n, int connected, String name, String passwd, String acl,
                      String probePassword) throws Exception {
        install(broker.dir(), passwd, acl);
        String load = load();
        double[] rts = new double[REPEATS];
        double[] cas = new double[REPEATS];
        double[] cpus = new double[REPEATS];
        for (int i = 0; i < REPEATS; i++) {
            int before = broker.reloadsLogged();
            long cpu0 = cpuTicks(broker.pid());
            long t0 = System.nanoTime();
            hup(broker);
            awaitLogged(broker, before + 1, t0);
            CompletableFuture<Long> connack = CompletableFuture.supplyAsync(() -> {
                try (Socket s = connect(broker.port(), PROBE_DEVICE, probePassword,
                        (int) TimeUnit.SECONDS.toMillis(RELOAD_TIMEOUT_S))) {
                    return System.nanoTime();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            probe.roundTrip(TimeUnit.SECONDS.toMillis(RELOAD_TIMEOUT_S));
            rts[i] = (System.nanoTime() - t0) / 1e9;
            cas[i] = (connack.get(RELOAD_TIMEOUT_S, TimeUnit.SECONDS) - t0) / 1e9;
            cpus[i] = (cpuTicks(broker.pid()) - cpu0) / (double) TICKS;
        }
        Row row = new Row(n, connected, name, acl.length(), median(rts), median(cas), median(cpus), load);
        Log.info(String.format(Locale.ROOT, "N=%d connected=%d %s: publish round trip %.2f s, new device CONNACK %.2f s"
                + " after SIGHUP, broker CPU %.2f s (median of %d; load %s)", n, connected, name, row.roundTripS(),
                row.connackS(), row.cpuS(), REPEATS, load));
        return row;
    }

    static final int REPEATS = Integer.getInteger("bench.repeats", 3);
    private static final long TICKS = 100; // USER_HZ on Linux

    /** utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15). */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    static double median(double[] v) {
        double[] c = v.clone();
        java.util.Arrays.sort(c);
        return c[c.length / 2];
    }

    private static void hupAndWait(MosquittoBroker broker, Probe probe) throws Exception {
        int before = broker.reloadsLogged();
        long t0 = System.nanoTime();
        hup(broker);
        awaitLogged(broker, before + 1, t0);
        probe.roundTrip(TimeUnit.SECONDS.toMillis(RELOAD_TIMEOUT_S));
    }

    private static void hup(MosquittoBroker broker) throws Exception {
        Process p = new ProcessBuilder("kill", "-HUP", Long.toString(broker.pid())).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("kill -HUP failed");
        }
    }

    private static void awaitLogged(MosquittoBroker broker, int count, long t0) throws InterruptedException {
        while (broker.reloadsLogged() < count) {
            if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(RELOAD_TIMEOUT_S)) {
                throw new IllegalStateException("mosquitto did not log the reload within " + RELOAD_TIMEOUT_S + " s");
            }
            Thread.sleep(2);
        }
    }

    /**
     * The ACL as the server rendered it before issue 11: the device's own topics spelled out in its own user block.
     * Kept here, verbatim in form, so one run of this harness shows before and after side by side.
     */
    static String blocksAcl(List<String> ids) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i);
            String dev = "edgefleet/v1/devices/" + id + "/";
            sb.append("\nuser ").append(id).append('\n');
            for (String w : List.of("status", "events", "telemetry", "benchmark", "capture")) {
                sb.append("topic write ").append(dev).append(w).append('\n');
            }
            sb.append("topic read ").append(dev).append("cmd\n");
            sb.append("topic read ").append(dev).append("ack\n");
            sb.append("topic read edgefleet/v1/classes/").append(CLASS_PREFIX).append(i % CLASSES).append("/artifacts/#\n");
        }
        return sb.toString();
    }

    /** The ACL in the form the server renders now (MosquittoConfigRenderer.acl): patterns once, one line per device. */
    static String patternsAcl(List<String> ids) {
        StringBuilder sb = new StringBuilder();
        for (String w : List.of("status", "events", "telemetry", "benchmark", "capture")) {
            sb.append("pattern write edgefleet/v1/devices/%u/").append(w).append('\n');
        }
        sb.append("pattern read edgefleet/v1/devices/%u/cmd\n");
        sb.append("pattern read edgefleet/v1/devices/%u/ack\n");
        for (int i = 0; i < ids.size(); i++) {
            sb.append("\nuser ").append(ids.get(i)).append('\n');
            sb.append("topic read edgefleet/v1/classes/").append(CLASS_PREFIX).append(i % CLASSES).append("/artifacts/#\n");
        }
        return sb.toString();
    }

    /** {@code user:$7$...} lines for {@code user:password} lines, hashed by one mosquitto_passwd -U. */
    private static String hash(Path dir, List<String> plainLines) throws Exception {
        Path f = Files.createTempFile(dir, ".plain", ".passwd");
        Files.write(f, plainLines, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder("mosquitto_passwd", "-U", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("mosquitto_passwd -U failed: " + out);
        }
        String hashed = ensureNewline(Files.readString(f));
        Files.delete(f);
        return hashed;
    }

    private static void install(Path dir, String passwd, String acl) throws IOException {
        replace(dir.resolve("passwd"), passwd);
        replace(dir.resolve("acl"), acl);
    }

    private static void replace(Path target, String content) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Connects every device, 250 CONNECTs written before their CONNACKs are read. */
    private static List<Socket> connectAll(int port, List<String> ids, List<String> passwords) throws IOException {
        List<Socket> sockets = new ArrayList<>();
        for (int from = 0; from < ids.size(); from += 250) {
            List<Socket> batch = new ArrayList<>();
            for (int i = from; i < Math.min(ids.size(), from + 250); i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", port), 30_000);
                s.setSoTimeout(120_000);
                s.getOutputStream().write(connectPacket(ids.get(i), passwords.get(i)));
                batch.add(s);
            }
            for (Socket s : batch) {
                readConnack(s);
            }
            sockets.addAll(batch);
        }
        return sockets;
    }

    private static int countClosed(List<Socket> sockets) throws IOException {
        int closed = 0;
        for (Socket s : sockets) {
            s.setSoTimeout(1);
            try {
                if (s.getInputStream().read() < 0) {
                    closed++;
                }
            } catch (SocketTimeoutException open) {
                // nothing to read and not closed: still connected
            } catch (IOException reset) {
                closed++;
            }
        }
        return closed;
    }

    static Socket connect(int port, String user, String password, int timeoutMs) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), timeoutMs);
        s.setSoTimeout(timeoutMs);
        s.getOutputStream().write(connectPacket(user, password));
        readConnack(s);
        return s;
    }

    private static void readConnack(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        int type = in.readUnsignedByte();
        int len = in.readUnsignedByte();
        byte[] body = new byte[len];
        in.readFully(body);
        if (type != 0x20 || len != 2 || body[1] != 0) {
            throw new IOException("connection refused: CONNACK type 0x" + Integer.toHexString(type) + " code "
                    + (len == 2 ? body[1] : -1));
        }
    }

    /** MQTT 3.1.1 CONNECT: clean session, keep-alive 0 (the broker never expects a ping), user name and password. */
    static byte[] connectPacket(String user, String password) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        str(v, "MQTT");
        v.write(4);
        v.write(0x80 | 0x40 | 0x02);
        v.write(0);
        v.write(0);
        str(v, user); // client id: the broker replaces it with the user name anyway (use_username_as_clientid)
        str(v, user);
        str(v, password);
        return packet(0x10, v.toByteArray());
    }

    static byte[] packet(int type, byte[] body) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(type);
        int len = body.length;
        do {
            int b = len % 128;
            len /= 128;
            p.write(len > 0 ? b | 0x80 : b);
        } while (len > 0);
        p.writeBytes(body);
        return p.toByteArray();
    }

    static void str(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(b.length >> 8);
        out.write(b.length & 0xff);
        out.writeBytes(b);
    }

    private static String ensureNewline(String s) {
        return s.isEmpty() || s.endsWith("\n") ? s : s + "\n";
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing at the end of a run
        }
    }

    static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    static void print(List<Row> rows) {
        StringBuilder sb = new StringBuilder("\nMosquitto credential reload (SIGHUP) by fleet size, deploy/mosquitto/mosquitto.conf"
                + " (medians of " + REPEATS + " reloads)"
                + "\n| devices | connected | files | ACL bytes | SIGHUP -> publish round trip | SIGHUP -> new device CONNACK"
                + " | broker CPU per reload | load (1 min) |"
                + "\n|---:|---:|---|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %,d | %,d | %s | %,d | %.2f s | %.2f s | %.2f s | %s |%n", r.devices(),
                    r.connected(), r.files(), r.aclBytes(), r.roundTripS(), r.connackS(), r.cpuS(), r.load()));
        }
        System.out.println(sb);
    }

    /** The server's login as a minimal client: subscribed to one topic, it times a publish coming back to it. */
    static final class Probe implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;
        private int seq;

        private Probe(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        static Probe connect(int port, String user, String password) throws IOException {
            return new Probe(BrokerReloadBenchmark.connect(port, user, password, 30_000));
        }

        void subscribe(String topic) throws IOException {
            ByteArrayOutputStream v = new ByteArrayOutputStream();
            v.write(0);
            v.write(1);
            str(v, topic);
            v.write(0);
            out.write(packet(0x82, v.toByteArray()));
            int type = in.readUnsignedByte();
            byte[] body = new byte[in.readUnsignedByte()];
            in.readFully(body);
            if (type != 0x90 || body[body.length - 1] != 0) {
                throw new IOException("subscription to " + topic + " refused");
            }
        }

        /** Publishes a numbered QoS 0 message to the subscribed topic and reads until it comes back. */
        void roundTrip(long timeoutMs) throws IOException {
            String payload = "probe-" + (++seq);
            ByteArrayOutputStream v = new ByteArrayOutputStream();
            str(v, PROBE_TOPIC);
            v.writeBytes(payload.getBytes(StandardCharsets.UTF_8));
            socket.setSoTimeout((int) timeoutMs);
            out.write(packet(0x30, v.toByteArray()));
            while (true) {
                int type = in.readUnsignedByte();
                int len = 0;
                int mult = 1;
                int b;
                do {
                    b = in.readUnsignedByte();
                    len += (b & 0x7f) * mult;
                    mult *= 128;
                } while ((b & 0x80) != 0);
                byte[] body = new byte[len];
                in.readFully(body);
                if ((type & 0xf0) == 0x30) {
                    int tl = ((body[0] & 0xff) << 8) | (body[1] & 0xff);
                    String got = new String(body, 2 + tl, body.length - 2 - tl, StandardCharsets.UTF_8);
                    if (got.equals(payload)) {
                        return;
                    }
                }
            }
        }

        @Override
        public void close() {
            closeQuietly(socket);
        }
    }
}
