package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.Agent;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Log;
import io.edgefleet.it.MosquittoBroker;
import io.edgefleet.it.RawMqtt;
import io.edgefleet.it.ServerProcess;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Promise 8 end to end, against Mosquitto from {@code deploy/} and PostgreSQL: agents on 1 s windows
 * keep reporting while the broker is SIGKILLed and restarted, while the server is SIGKILLed and
 * restarted, and while two server replicas split the ingest. After each disruption every window an
 * agent produced up to a checkpoint is stored, exactly once (checked in the database). Also: an
 * agent that vanishes is shown offline by its Last Will, and a device that goes silent without one
 * by the sweep, within its bound.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IngestDurabilityIT {
    static final String CLASS = "ingest-class";
    static final int AGENTS = 10;
    static final long OFFLINE_AFTER_S = 6;
    static final Map<String, String> SERVER = Map.of(
            "edgefleet.devices.offline-after", OFFLINE_AFTER_S + "s",
            "edgefleet.devices.sweep-interval", "1s");

    Fleet fleet;
    Api api;
    Connection db;
    final List<Agent> agents = new ArrayList<>();
    final JsonCodec codec = new JsonCodec();

    @BeforeAll
    void start() {
        fleet = Fleet.start("ingest", SERVER);
        Assumptions.assumeTrue(fleet.broker().isMosquitto(), "needs Mosquitto (deploy/ config)");
        db = fleet.database().connect().orElse(null);
        Assumptions.assumeTrue(db != null, "needs PostgreSQL to check what was stored");
        api = fleet.api();
        api.createDeviceClass(CLASS, 200.0);
        String[] ids = new String[AGENTS];
        for (int i = 0; i < AGENTS; i++) {
            ids[i] = String.format(Locale.ROOT, "ing-%02d", i);
        }
        for (Fleet.Device d : fleet.register(CLASS, ids)) {
            agents.add(fleet.startAgent(d, b -> b.telemetryWindowSeconds(1)));
        }
        for (Agent a : agents) {
            Await.until(Duration.ofSeconds(60), a.deviceId() + " online",
                    () -> api.device(a.deviceId()).path("online").asBoolean());
        }
    }

    @AfterAll
    void stop() throws SQLException {
        if (db != null) {
            db.close();
        }
        if (fleet != null) {
            fleet.close();
        }
    }

    @Test
    @Order(1)
    void brokerKilledDuringIngestLosesNoWindowAndStoresNoneTwice() throws Exception {
        Thread.sleep(4_000);
        // Restarted at once: Paho's automatic reconnect backs off exponentially (beyond its configured maximum in
        // 1.2.5), so a longer outage would mostly measure the agents' backoff.
        ((MosquittoBroker) fleet.broker()).killAndRestart(Duration.ofMillis(200));
        Thread.sleep(4_000);
        everyWindowUpToNowStoredOnce(Duration.ofSeconds(60));
    }

    @Test
    @Order(2)
    void serverKilledDuringIngestLosesNothingTheAgentsSawAcknowledged() throws Exception {
        Thread.sleep(3_000);
        ServerProcess server = fleet.server();
        server.kill();
        Thread.sleep(3_000);
        server.restart();
        everyWindowUpToNowStoredOnce(Duration.ofSeconds(60));
    }

    @Test
    @Order(3)
    void twoReplicasSplitTheIngestAndNeitherStoresADuplicate() throws Exception {
        Map<String, String> props = new HashMap<>(SERVER);
        // Scaled down for good at the end: leave the shared subscriptions, or the broker keeps giving the stopped
        // replica's session a share of the device messages.
        props.put("edgefleet.mqtt.leave-shared-subscriptions-on-stop", "true");
        ServerProcess replica = fleet.startReplica("ingest-replica", props);
        long firstBefore = api.stats().path("telemetryWindowsStored").asLong();
        long secondBefore = replica.api().stats().path("telemetryWindowsStored").asLong();
        Thread.sleep(8_000);
        everyWindowUpToNowStoredOnce(Duration.ofSeconds(60));
        long first = api.stats().path("telemetryWindowsStored").asLong() - firstBefore;
        long second = replica.api().stats().path("telemetryWindowsStored").asLong() - secondBefore;
        Log.info("replicas stored " + first + " and " + second + " windows");
        assertTrue(first > 0 && second > 0, "both replicas take a share: " + first + " / " + second);
        replica.close();
    }

    @Test
    @Order(4)
    void aKilledAgentIsShownOfflineByItsWill() throws Exception {
        Agent victim = agents.remove(agents.size() - 1);
        assertTrue(api.device(victim.deviceId()).path("online").asBoolean());
        long t0 = System.nanoTime();
        victim.kill();
        // The broker publishes the will after the connection drops; the will names the connection it ends, so
        // the server applies it although it was built before that connection's ONLINE status.
        Await.until(Duration.ofSeconds(OFFLINE_AFTER_S + 5), victim.deviceId() + " offline",
                () -> !api.device(victim.deviceId()).path("online").asBoolean());
        Log.info("killed agent offline after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    @Test
    @Order(5)
    void aDeviceSilentWithoutAWillIsSweptOfflineWithinTheBound() throws Exception {
        Fleet.Device d = fleet.register(CLASS, "ing-silent").get(0);
        try (RawMqtt device = RawMqtt.connect(d.mqttUrl(), d.username(), d.password(), "ing-silent")) {
            DeviceStatus online = DeviceStatus.of(d.id(), DeviceStatus.State.ONLINE, null, null, "raw", "conn-1");
            assertTrue(RawMqtt.accepted(device.publish(Topics.status(d.id()), codec.encode(online), 1, true)));
            Await.until(Duration.ofSeconds(20), "silent device online", () -> api.device(d.id()).path("online").asBoolean());
            // A normal DISCONNECT: no will. Only the sweep can tell the device is gone.
        }
        long t0 = System.nanoTime();
        Await.until(Duration.ofSeconds(OFFLINE_AFTER_S + 10), "silent device swept offline",
                () -> !api.device(d.id()).path("online").asBoolean());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        Log.info("silent device offline after " + ms + " ms (bound " + OFFLINE_AFTER_S + " s + sweep interval)");
        assertTrue(ms >= (OFFLINE_AFTER_S - 2) * 1000, "not before the silence bound: " + ms + " ms");
        JsonNode stats = api.stats();
        assertTrue(stats.path("devicesSweptOffline").asLong() >= 1, stats.toString());
        // The paged device list, two at a time, filtered by state, finds it too.
        assertTrue(api.listAll("/api/v1/devices?online=false&limit=2").stream()
                .anyMatch(n -> d.id().equals(n.path("id").asText())));
    }

    @Test
    @Order(6)
    void aFutureDatedStatusDoesNotFreezeADevice() throws Exception {
        Fleet.Device d = fleet.register(CLASS, "ing-future").get(0);
        try (RawMqtt device = RawMqtt.connect(d.mqttUrl(), d.username(), d.password(), "ing-future")) {
            long future = System.currentTimeMillis() + 3_600_000L;
            device.publish(Topics.status(d.id()), codec.encode(new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(),
                    future, d.id(), DeviceStatus.State.ONLINE, null, null, "raw", "conn-a")), 1, true);
            Await.until(Duration.ofSeconds(20), "online", () -> api.device(d.id()).path("online").asBoolean());
            // No connection id: only timestamps decide, and the future-dated one was clamped to its arrival.
            device.publish(Topics.status(d.id()), codec.encode(DeviceStatus.of(d.id(), DeviceStatus.State.OFFLINE, null,
                    null, "raw")), 1, true);
            Await.until(Duration.ofSeconds(20), "an OFFLINE after a future-dated ONLINE applies",
                    () -> !api.device(d.id()).path("online").asBoolean());
        }
    }

    /**
     * Takes each running agent's newest seq as a checkpoint and waits until the database holds every seq from 0 to
     * it, for every device; then checks that no (device, seq) and no (device, message id) is stored twice.
     */
    private void everyWindowUpToNowStoredOnce(Duration timeout) throws Exception {
        Map<String, Long> checkpoint = new HashMap<>();
        for (Agent a : agents) {
            TelemetryWindow last = a.lastTelemetry();
            assertTrue(last != null, a.deviceId() + " produced telemetry");
            checkpoint.put(a.deviceId(), last.seq());
        }
        Await.until(timeout, "every window up to the checkpoint stored", () -> missing(checkpoint).isEmpty(),
                () -> "missing: " + missing(checkpoint) + "\nstats: " + api.stats());
        try (Statement s = db.createStatement();
             ResultSet r = s.executeQuery("SELECT device_id, seq, COUNT(*) FROM telemetry_window"
                     + " GROUP BY device_id, seq HAVING COUNT(*) > 1")) {
            List<String> twice = new ArrayList<>();
            while (r.next()) {
                twice.add(r.getString(1) + "#" + r.getLong(2) + " x" + r.getLong(3));
            }
            assertEquals(List.of(), twice, "windows stored twice");
        }
        JsonNode stats = api.stats();
        Log.info("checkpoint " + checkpoint + " complete; stats " + stats);
        for (Agent a : agents) {
            assertEquals(0, a.lastTelemetry().dropped(), a.deviceId() + " dropped nothing");
        }
    }

    /** Per device, how many seqs in 0..checkpoint are not stored. */
    private Map<String, Long> missing(Map<String, Long> checkpoint) {
        Map<String, Long> out = new HashMap<>();
        try (Statement s = db.createStatement();
             ResultSet r = s.executeQuery("SELECT device_id, COUNT(DISTINCT seq), MIN(seq), MAX(seq)"
                     + " FROM telemetry_window WHERE device_id LIKE 'ing-%' GROUP BY device_id")) {
            Map<String, long[]> have = new HashMap<>();
            while (r.next()) {
                have.put(r.getString(1), new long[] {r.getLong(2), r.getLong(3), r.getLong(4)});
            }
            for (Map.Entry<String, Long> e : checkpoint.entrySet()) {
                long[] h = have.get(e.getKey());
                long want = e.getValue() + 1;
                // Distinct seqs from 0 up to the checkpoint (newer ones may be there too).
                long stored = h == null ? 0 : countUpTo(e.getKey(), e.getValue());
                if (stored < want) {
                    out.put(e.getKey(), want - stored);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private long countUpTo(String deviceId, long maxSeq) throws SQLException {
        try (var ps = db.prepareStatement(
                "SELECT COUNT(DISTINCT seq) FROM telemetry_window WHERE device_id = ? AND seq <= ?")) {
            ps.setString(1, deviceId);
            ps.setLong(2, maxSeq);
            try (ResultSet r = ps.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        }
    }
}
