package io.edgefleet.server.mqtt;

import static io.edgefleet.server.support.Api.api;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.mqtt.InboundDispatcher.Inbound;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ingest rules, fed straight into the processor (no broker timing involved). */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class InboundProcessorTest {
    private static final JsonCodec CODEC = new JsonCodec();
    private static final ModelRef MODEL = new ModelRef("m", 1, "a".repeat(64));

    @Inject
    InboundProcessor processor;

    @Inject
    io.edgefleet.server.telemetry.TelemetryAcks acks;

    private static Inbound in(Topics.Kind kind, String deviceId, Message m) {
        return new Inbound(kind, deviceId, CODEC.encode(m), System.currentTimeMillis());
    }

    private static TelemetryWindow window(String deviceId, long seq, long end, boolean replayed) {
        return new TelemetryWindow(Protocol.VERSION, Protocol.newMessageId(), end, deviceId, seq, end - 1000, end,
                MODEL, 10, 0, new LatencyStats(1, 2, 3, 4, 1.5), null, null, 0, replayed);
    }

    private static DeviceStatus status(String deviceId, DeviceStatus.State state, long ts) {
        return new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), ts, deviceId, state, null, null, "a/1");
    }

    @Test
    void unknownDevicesAreCountedAndDropped() {
        long before = api().get("/api/v1/stats").jsonPath().getLong("unknownDeviceDropped.telemetry");
        long statusBefore = api().get("/api/v1/stats").jsonPath().getLong("unknownDeviceDropped.status");
        processor.process(List.of(
                in(Topics.Kind.TELEMETRY, "ghost", window("ghost", 1, 5000, false)),
                in(Topics.Kind.STATUS, "ghost", status("ghost", DeviceStatus.State.ONLINE, 5000))));
        JsonPath stats = api().get("/api/v1/stats").jsonPath();
        assertEquals(before + 1, stats.getLong("unknownDeviceDropped.telemetry"));
        assertEquals(statusBefore + 1, stats.getLong("unknownDeviceDropped.status"));
    }

    @Test
    void statusNeverGoesBackInTimeAndOfflineIsNotASignOfLife() {
        Api.createClass("ing-gw");
        Api.registerDevice("ing-1", "ing-gw");
        processor.process(List.of(in(Topics.Kind.STATUS, "ing-1", status("ing-1", DeviceStatus.State.ONLINE, 2000))));
        long seen = api().get("/api/v1/devices/ing-1").then().body("online", equalTo(true)).extract().jsonPath()
                .getLong("lastSeen");
        processor.process(List.of(in(Topics.Kind.STATUS, "ing-1", status("ing-1", DeviceStatus.State.OFFLINE, 1000))));
        api().get("/api/v1/devices/ing-1").then().body("online", equalTo(true));
        processor.process(List.of(in(Topics.Kind.STATUS, "ing-1", status("ing-1", DeviceStatus.State.OFFLINE, 3000))));
        api().get("/api/v1/devices/ing-1").then().body("online", equalTo(false)).body("lastSeen", equalTo(seen));
    }

    @Test
    void replayedWindowsAreStoredButDoNotReplaceTheLastWindow() {
        Api.createClass("ing-rp");
        Api.registerDevice("ing-2", "ing-rp");
        processor.process(List.of(
                in(Topics.Kind.TELEMETRY, "ing-2", window("ing-2", 5, 50_000, false)),
                in(Topics.Kind.TELEMETRY, "ing-2", window("ing-2", 6, 60_000, false)),
                in(Topics.Kind.TELEMETRY, "ing-2", window("ing-2", 2, 20_000, true))));
        api().get("/api/v1/devices/ing-2").then().body("lastTelemetry.seq", equalTo(6));
        api().get("/api/v1/devices/ing-2/telemetry").then().body("$", hasSize(3)).body("seq", equalTo(List.of(2, 6, 5)));
    }

    @Test
    void eventsWithoutADeploymentAreStoredInOrderWithTelemetryAround() {
        Api.createClass("ing-ev");
        Api.registerDevice("ing-3", "ing-ev");
        DeviceEvent rejected = DeviceEvent.of("ing-3", DeviceEvent.Type.COMMAND_REJECTED, null, null,
                io.edgefleet.protocol.ReasonCode.MALFORMED_PAYLOAD, "bad command");
        processor.process(List.of(
                in(Topics.Kind.TELEMETRY, "ing-3", window("ing-3", 1, 10_000, false)),
                in(Topics.Kind.EVENTS, "ing-3", rejected),
                in(Topics.Kind.EVENTS, "ing-3", rejected),
                in(Topics.Kind.TELEMETRY, "ing-3", window("ing-3", 2, 20_000, false))));
        api().get("/api/v1/devices/ing-3/events").then().body("$", hasSize(1))
                .body("[0].type", equalTo("COMMAND_REJECTED"))
                .body("[0].reason", equalTo("MALFORMED_PAYLOAD"))
                .body("[0].deploymentId", nullValue());
        api().get("/api/v1/devices/ing-3/telemetry").then().body("$", hasSize(2));
    }

    @Test
    void aWindowIsStoredOncePerMessageIdAndItsCopiesAreAcknowledgedAgain() {
        Api.createClass("ing-dup");
        Api.registerDevice("ing-4", "ing-dup");
        TelemetryWindow w0 = window("ing-4", 0, 10_000, false);
        TelemetryWindow w1 = window("ing-4", 1, 20_000, false);
        long dupBefore = api().get("/api/v1/stats").jsonPath().getLong("duplicatesDropped");
        // A copy inside one batch (QoS 1 redelivery) and one in a later batch (the agent's replay).
        assertEquals(0, processor.process(List.of(in(Topics.Kind.TELEMETRY, "ing-4", w0),
                in(Topics.Kind.TELEMETRY, "ing-4", w0), in(Topics.Kind.TELEMETRY, "ing-4", w1))).size());
        assertEquals(0, processor.process(List.of(in(Topics.Kind.TELEMETRY, "ing-4", w1.asReplay(0L)))).size());
        api().get("/api/v1/devices/ing-4/telemetry").then().body("$", hasSize(2));
        assertEquals(dupBefore + 2, api().get("/api/v1/stats").jsonPath().getLong("duplicatesDropped"));
        assertEquals(1, acks.acked("ing-4"), "the watermark covers both windows");
    }

    @Test
    void theWatermarkWaitsForAMissingWindowUnlessTheAgentDroppedIt() {
        Api.createClass("ing-gap");
        Api.registerDevice("ing-5", "ing-gap");
        TelemetryWindow w0 = window("ing-5", 0, 10_000, false);
        TelemetryWindow w2 = window("ing-5", 2, 30_000, false).asReplay(0L);
        processor.process(List.of(in(Topics.Kind.TELEMETRY, "ing-5", w0.asReplay(0L)),
                in(Topics.Kind.TELEMETRY, "ing-5", w2)));
        assertEquals(0, acks.acked("ing-5"), "seq 1 is missing");
        // The agent says it no longer holds seq 1 (dropped, counted): the base moves past it.
        processor.process(List.of(in(Topics.Kind.TELEMETRY, "ing-5", window("ing-5", 3, 40_000, false).asReplay(2L))));
        assertEquals(3, acks.acked("ing-5"));
    }

    @Test
    void theWillOfTheCurrentConnectionTakesADeviceOfflineAlthoughItIsOlder() {
        Api.createClass("ing-will");
        Api.registerDevice("ing-6", "ing-will");
        long now = System.currentTimeMillis();
        DeviceStatus will = new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), now - 5000, "ing-6",
                DeviceStatus.State.OFFLINE, null, null, "a/1", "conn-7");
        DeviceStatus online = new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), now - 4000, "ing-6",
                DeviceStatus.State.ONLINE, null, null, "a/1", "conn-7");
        processor.process(List.of(in(Topics.Kind.STATUS, "ing-6", online)));
        api().get("/api/v1/devices/ing-6").then().body("online", equalTo(true));
        processor.process(List.of(in(Topics.Kind.STATUS, "ing-6", will)));
        api().get("/api/v1/devices/ing-6").then().body("online", equalTo(false));
    }

    /**
     * The retained statuses the gateway reads on every connect (a shared subscription gets none): a device that came
     * online on a new connection while no server listened is shown online, dated by its status, not by the read;
     * the copy of a status already applied changes nothing.
     */
    @Test
    void aRetainedStatusIsAppliedOnlyWhenNewerAndIsNoSignOfLifeNow() {
        Api.createClass("ing-retained");
        Api.registerDevice("ing-ret-1", "ing-retained");
        long now = System.currentTimeMillis();
        DeviceStatus first = new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), now - 60_000, "ing-ret-1",
                DeviceStatus.State.ONLINE, null, null, "a/1", "conn-r1");
        DeviceStatus will = new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), now - 70_000, "ing-ret-1",
                DeviceStatus.State.OFFLINE, null, null, "a/1", "conn-r1");
        // a server that starts reads the device's last connection from the retained copies: online, then its will
        // (which is older: it is built first), dated by the statuses, not by the read
        processor.process(List.of(retained("ing-ret-1", first)));
        api().get("/api/v1/devices/ing-ret-1").then().body("online", equalTo(true)).body("lastSeen", equalTo(now - 60_000));
        processor.process(List.of(retained("ing-ret-1", will)));
        api().get("/api/v1/devices/ing-ret-1").then().body("online", equalTo(false));
        // the same will read again by a restarted server: nothing new
        processor.process(List.of(retained("ing-ret-1", will)));
        api().get("/api/v1/devices/ing-ret-1").then().body("online", equalTo(false)).body("lastSeen", equalTo(now - 60_000));
        // it reconnected while no server was subscribed: only the retained copy of that ONLINE reaches the server
        DeviceStatus back = new DeviceStatus(Protocol.VERSION, Protocol.newMessageId(), now - 20_000, "ing-ret-1",
                DeviceStatus.State.ONLINE, null, null, "a/1", "conn-r2");
        processor.process(List.of(retained("ing-ret-1", back)));
        api().get("/api/v1/devices/ing-ret-1").then().body("online", equalTo(true)).body("lastSeen", equalTo(now - 20_000));
        // read once more (another replica's connect, a second reconnect): the same, not a fresher sign of life
        processor.process(List.of(retained("ing-ret-1", back)));
        api().get("/api/v1/devices/ing-ret-1").then().body("online", equalTo(true)).body("lastSeen", equalTo(now - 20_000));
    }

    private static Inbound retained(String deviceId, DeviceStatus s) {
        return new Inbound(Topics.Kind.STATUS, deviceId, CODEC.encode((Message) s), System.currentTimeMillis(),
                InboundDispatcher.NO_ACK, true);
    }

    @Test
    void devicesArePagedWithAnOpaqueCursorAndFiltered() {
        Api.createClass("ing-page");
        for (int i = 0; i < 5; i++) {
            Api.registerDevice("ing-page-" + i, "ing-page");
        }
        processor.process(List.of(in(Topics.Kind.STATUS, "ing-page-3",
                status("ing-page-3", DeviceStatus.State.ONLINE, System.currentTimeMillis()))));
        var first = api().get("/api/v1/devices?classId=ing-page&limit=2").then().statusCode(200)
                .body("id", equalTo(List.of("ing-page-0", "ing-page-1"))).extract();
        String cursor = first.header("X-Next-Cursor");
        org.junit.jupiter.api.Assertions.assertNotNull(cursor);
        var second = api().get("/api/v1/devices?classId=ing-page&limit=2&cursor=" + cursor).then()
                .body("id", equalTo(List.of("ing-page-2", "ing-page-3"))).extract();
        api().get("/api/v1/devices?classId=ing-page&limit=2&cursor=" + second.header("X-Next-Cursor")).then()
                .body("id", equalTo(List.of("ing-page-4"))).header("X-Next-Cursor", nullValue());
        api().get("/api/v1/devices?classId=ing-page&online=true").then().body("id", equalTo(List.of("ing-page-3")));
        api().get("/api/v1/devices?limit=0").then().statusCode(400).body("error", equalTo("VALIDATION_FAILED"));
        api().get("/api/v1/devices?cursor=nonsense").then().statusCode(400).body("error", equalTo("VALIDATION_FAILED"));
    }
}
