package io.edgefleet.it.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import io.edgefleet.it.Api;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.TelemetryAck;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The telemetry load of the fleet benchmark. Each bench device behaves like an agent: its own MQTT
 * connection and credentials, QoS 1 windows with a few in flight, its {@code ackBase}, the server's
 * cumulative {@link TelemetryAck} read on its ack topic, and at the end a replay, with the same message
 * ids, of whatever the server has not confirmed (the broker may have dropped it).
 *
 * <p>So that the load generator is not what is measured, the windows are serialised before the clock
 * starts, and the devices publish through the HiveMQ client on its shared Netty event loop (the agent's
 * own option for many agents in one JVM): no thread per device, the next publish issued from the PUBACK
 * of the previous one. First sends carry {@code ackBase} 0 (always true: nothing below seq 0 exists);
 * replays carry the device's current base, as an agent's do. The CPU each process used during the run
 * (this load generator, the server, the broker, PostgreSQL) is reported beside the rates, which says
 * who was the bottleneck.
 */
final class IngestLoad {
    static final int INFLIGHT_PER_DEVICE = Integer.getInteger("bench.inflight", 16);
    static final long REPLAY_AFTER_NS = TimeUnit.SECONDS.toNanos(10);
    /** Windows per second offered by all devices together; 0: as fast as QoS 1 and the in-flight window allow. */
    static final int RATE = Integer.getInteger("bench.rate", 0);

    private final Fleet fleet;
    private final Api api;
    private final int devices;
    private final int perDevice;
    private final int maxSeconds;
    /** From the first publish: registering, connecting and serialising do not count against bench.max-seconds. */
    private long deadline;
    private final JsonCodec codec = new JsonCodec();
    private final ModelRef model = new ModelRef("bench-model", 1, "0".repeat(64));
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<String> firstFailure = new AtomicReference<>();
    private final AtomicLong lastConfirmAt = new AtomicLong();
    private long startMs;
    private long t0;
    /** With {@link #RATE}: nanoseconds between two windows of one device; publishes due later wait on the timer. */
    private final long nsPerSeq;
    private final java.util.concurrent.ScheduledExecutorService timer =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "bench-pacer");
                t.setDaemon(true);
                return t;
            });

    /** One bench device: its connection, its pre-serialised windows, what it sent and what it saw confirmed. */
    private final class Device {
        final String id;
        final String topic;
        final String[] messageIds;
        final byte[][] firstSends;
        Mqtt5AsyncClient client;
        int next;
        volatile long confirmed = -1;

        Device(String id) {
            this.id = id;
            this.topic = Topics.telemetry(id);
            this.messageIds = new String[perDevice];
            this.firstSends = new byte[perDevice][];
        }
    }

    IngestLoad(Fleet fleet, Api api, int devices, int messages, int maxSeconds) {
        this.fleet = fleet;
        this.api = api;
        this.devices = devices;
        this.perDevice = Math.max(1, messages / devices);
        this.maxSeconds = maxSeconds;
        this.nsPerSeq = RATE > 0 ? TimeUnit.SECONDS.toNanos(devices) / RATE : 0;
    }

    private byte[] window(Device d, int seq, long ackBase) {
        long start = startMs + seq * 1000L;
        return codec.encode(new TelemetryWindow(Protocol.VERSION, d.messageIds[seq], start + 1000, d.id, seq, start,
                start + 1000, model, 20, 0, new LatencyStats(1.0, 2.0, 3.0, 4.0, 1.5), 6.0, null, 0, false, ackBase, null,
                null, null));
    }

    List<String> run(String deviceClass) throws Exception {
        String[] ids = new String[devices];
        for (int i = 0; i < devices; i++) {
            ids[i] = String.format(Locale.ROOT, "bench-%04d", i + 1);
        }
        List<Fleet.Device> registered = fleet.register(deviceClass, ids);
        startMs = System.currentTimeMillis();
        List<Device> all = new ArrayList<>(devices);
        for (Fleet.Device r : registered) {
            Device d = new Device(r.id());
            for (int seq = 0; seq < perDevice; seq++) {
                d.messageIds[seq] = Protocol.newMessageId();
                d.firstSends[seq] = window(d, seq, 0);
            }
            d.client = connect(r, d);
            all.add(d);
        }
        long total = (long) perDevice * devices;
        long storedBefore = api.stats().path("telemetryWindowsStored").asLong();
        Log.info("ingest: " + devices + " devices x " + perDevice + " windows = " + total + " QoS 1 publishes ("
                + INFLIGHT_PER_DEVICE + " in flight per device, " + (RATE > 0 ? "offered at " + RATE + "/s" : "unpaced")
                + ") via " + fleet.broker().description()
                + ", acknowledged by the server after commit");

        Map<String, long[]> cpuBefore = cpu();
        CountDownLatch firstSendsDone = new CountDownLatch(devices);
        t0 = System.nanoTime();
        deadline = t0 + TimeUnit.SECONDS.toNanos(maxSeconds);
        lastConfirmAt.set(t0);
        for (Device d : all) {
            for (int k = 0; k < INFLIGHT_PER_DEVICE; k++) {
                pump(d, firstSendsDone);
            }
        }
        firstSendsDone.await(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        double publishSeconds = (System.nanoTime() - t0) / 1e9;

        // Wait for the server's confirmations; replay what stays unconfirmed for 10 s, as an agent does.
        long lastReplayAt = System.nanoTime();
        long replayed = 0;
        while (System.nanoTime() < deadline) {
            long unconfirmed = 0;
            for (Device d : all) {
                unconfirmed += perDevice - 1 - d.confirmed;
            }
            if (unconfirmed == 0) {
                break;
            }
            if (System.nanoTime() - Math.max(lastConfirmAt.get(), lastReplayAt) > REPLAY_AFTER_NS) {
                List<java.util.concurrent.CompletableFuture<Mqtt5PublishResult>> sends = new ArrayList<>();
                for (Device d : all) {
                    long base = d.confirmed + 1;
                    for (long seq = base; seq < perDevice; seq++) {
                        sends.add(d.client.publishWith().topic(d.topic).qos(MqttQos.AT_LEAST_ONCE)
                                .payload(window(d, (int) seq, base)).send());
                        replayed++;
                    }
                }
                sends.forEach(f -> f.handle((r, e) -> null).join());
                lastReplayAt = System.nanoTime();
            }
            Thread.sleep(20);
        }
        double ingestSeconds = (lastConfirmAt.get() - t0) / 1e9;
        Map<String, long[]> cpuAfter = cpu();
        timer.shutdownNow();
        for (Device d : all) {
            d.client.disconnect().handle((r, e) -> null).join();
        }
        long confirmedTotal = 0;
        for (Device d : all) {
            confirmedTotal += d.confirmed + 1;
        }
        long storedCounter = api.stats().path("telemetryWindowsStored").asLong() - storedBefore;
        long[] db = countStored();
        JsonNode stats = api.stats();
        Log.info("ingest stats: " + stats);
        if (firstFailure.get() != null) {
            Log.info("first publish failure: " + firstFailure.get());
        }

        List<String> rows = new ArrayList<>();
        rows.add("");
        rows.add("Telemetry ingest, ack after commit (" + devices + " devices, QoS 1, "
                + fleet.broker().description().split(" \\(")[0] + ", " + fleet.database().description().split(" \\(")[0]
                + ")");
        rows.add(row("metric", "value"));
        rows.add(row("windows offered per second (bench.rate)", RATE > 0 ? Integer.toString(RATE) : "unpaced"));
        rows.add(row("windows produced", total));
        rows.add(row("windows PUBACKed by the broker (first send)", published.get()));
        rows.add(row("publish failures (first send)", failed.get()));
        rows.add(row("windows replayed (unconfirmed after 10 s)", replayed));
        rows.add(row("windows confirmed by the server (cumulative ack)", confirmedTotal));
        rows.add(row("windows stored: server counter / database rows",
                storedCounter + " / " + (db == null ? "n/a" : Long.toString(db[0]))));
        rows.add(row("database: distinct (device, seq)", db == null ? "n/a" : Long.toString(db[1])));
        boolean exact = db == null ? storedCounter == confirmedTotal : db[0] == confirmedTotal && db[1] == confirmedTotal;
        rows.add(row("stored == confirmed, each once", exact ? "yes" : "NO"));
        rows.add(row("publishers: first sends PUBACKed / s", String.format(Locale.ROOT, "%.0f", published.get() / publishSeconds)));
        rows.add(row("server: stored + confirmed windows / wall s", String.format(Locale.ROOT, "%.0f", confirmedTotal / ingestSeconds)));
        rows.add(row("wall time, first publish to last confirmation (s)", String.format(Locale.ROOT, "%.1f", ingestSeconds)));
        rows.add(row("duplicates / left unacked / backpressure wait ms",
                stats.path("duplicatesDropped").asLong() + " / " + stats.path("leftUnacked").asLong() + " / "
                        + stats.path("backpressureWaitMs").asLong()));
        double wall = Math.max(ingestSeconds, publishSeconds);
        for (Map.Entry<String, long[]> e : cpuAfter.entrySet()) {
            long[] before = cpuBefore.getOrDefault(e.getKey(), new long[] {0});
            double cpuSeconds = (e.getValue()[0] - before[0]) / (double) CLOCK_TICKS;
            rows.add(row("CPU s (share of wall) " + e.getKey(),
                    String.format(Locale.ROOT, "%.1f (%.0f%%)", cpuSeconds, 100 * cpuSeconds / wall)));
        }
        return rows;
    }

    /** Publishes the device's next first send, and from its PUBACK the one after (so a few are always in flight). */
    private void pump(Device d, CountDownLatch done) {
        java.util.concurrent.CompletableFuture<Mqtt5PublishResult> sent;
        synchronized (d) {
            if (d.next >= perDevice) {
                return;
            }
            if (System.nanoTime() > deadline) {
                d.next = perDevice;
                done.countDown();
                return;
            }
            long wait = nsPerSeq == 0 ? 0 : t0 + d.next * nsPerSeq - System.nanoTime();
            if (wait > 0) {
                timer.schedule(() -> pump(d, done), wait, TimeUnit.NANOSECONDS);
                return;
            }
            // Issued under the device's lock, so the windows leave in seq order, as an agent sends them.
            sent = d.client.publishWith().topic(d.topic).qos(MqttQos.AT_LEAST_ONCE).payload(d.firstSends[d.next++]).send();
        }
        sent.whenComplete((r, e) -> {
            if (e == null && !(r instanceof Mqtt5PublishResult.Mqtt5Qos1Result q && q.getPubAck().getReasonCode().isError())) {
                published.incrementAndGet();
            } else {
                failed.incrementAndGet();
                firstFailure.compareAndSet(null, e != null ? e.toString() : "PUBACK " + r);
            }
            if (isLastOf(d)) {
                done.countDown();
            }
            pump(d, done);
        });
    }

    private final Map<Device, AtomicLong> completions = new java.util.concurrent.ConcurrentHashMap<>();

    private boolean isLastOf(Device d) {
        return completions.computeIfAbsent(d, k -> new AtomicLong()).incrementAndGet() == perDevice;
    }

    private Mqtt5AsyncClient connect(Fleet.Device r, Device d) {
        URI uri = URI.create(r.mqttUrl());
        Mqtt5AsyncClient c = MqttClient.builder().useMqttVersion5().identifier(r.username())
                .serverHost(uri.getHost()).serverPort(uri.getPort()).buildAsync();
        c.connectWith().cleanStart(true).simpleAuth().username(r.username())
                .password(r.password().getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send().join();
        c.subscribeWith().topicFilter(Topics.ack(r.id())).qos(MqttQos.AT_MOST_ONCE).callback((Mqtt5Publish p) -> {
            TelemetryAck ack = codec.decode(p.getPayloadAsBytes(), TelemetryAck.class);
            if (d.id.equals(ack.deviceId()) && ack.seq() > d.confirmed) {
                d.confirmed = ack.seq();
                lastConfirmAt.set(System.nanoTime());
            }
        }).send().join();
        return c;
    }

    /** Rows and distinct (device, seq) of the bench devices in the database, or null without PostgreSQL. */
    private long[] countStored() throws java.sql.SQLException {
        java.util.Optional<java.sql.Connection> c = fleet.database().connect();
        if (c.isEmpty()) {
            return null;
        }
        try (java.sql.Connection conn = c.get(); java.sql.Statement st = conn.createStatement();
             java.sql.ResultSet r = st.executeQuery("SELECT COUNT(*), COUNT(DISTINCT (device_id, seq)) FROM telemetry_window"
                     + " WHERE device_id LIKE 'bench-%'")) {
            r.next();
            return new long[] {r.getLong(1), r.getLong(2)};
        }
    }

    // ---------------------------------------------------------------- CPU per process, from /proc

    /** USER_HZ: /proc/[pid]/stat counts CPU time in these ticks (100 on Linux everywhere that matters). */
    static final long CLOCK_TICKS = 100;

    /** CPU ticks (user + system) so far of: this load generator, the server, the broker(s), PostgreSQL's processes. */
    private Map<String, long[]> cpu() {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("load generator (this JVM)", new long[] {ticks(ProcessHandle.current().pid())});
        m.put("server", new long[] {ticks(fleet.server().pid())});
        long broker = 0;
        long postgres = 0;
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                String comm = comm(p);
                if (comm.startsWith("mosquitto")) {
                    broker += ticks(Long.parseLong(name));
                } else if (comm.startsWith("postgres")) {
                    postgres += ticks(Long.parseLong(name));
                }
            }
        } catch (java.io.IOException e) {
            return m;
        }
        m.put("mosquitto (all on the machine)", new long[] {broker});
        m.put("postgres (all backends on the machine)", new long[] {postgres});
        return m;
    }

    private static String comm(Path proc) {
        try {
            return Files.readString(proc.resolve("comm")).trim();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** utime + stime of a process (0 when it is gone). */
    static long ticks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }

    private static String row(String metric, Object value) {
        return String.format(Locale.ROOT, "  %-52s %14s", metric, value);
    }
}
