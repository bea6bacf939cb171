package io.edgefleet.server.rollout;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.FakeDevice;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** End to end over the embedded broker, with Paho clients standing in for agents. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class RolloutFlowTest {
    private static final JsonCodec CODEC = new JsonCodec();
    private static final Duration WAIT = Duration.ofSeconds(15);

    private static byte[] encode(io.edgefleet.protocol.Message m) {
        return CODEC.encode(m);
    }

    private static TelemetryWindow window(String deviceId, long seq, ModelRef model) {
        long now = System.currentTimeMillis();
        return new TelemetryWindow(Protocol.VERSION, Protocol.newMessageId(), now, deviceId, seq, now - 10_000, now,
                model, 250, 2, new LatencyStats(4.0, 9.5, 12.0, 20.0, 5.0), 0.8, 0.02, 0, false);
    }

    /** These tests follow one device's deploy/commit/rollback path, so every target goes at once (the short form). */
    static final Map<String, Object> ALL_AT_ONCE = Map.of("allAtOnce", true);

    private static String deploy(Map<String, Object> body) {
        return json().body(body).post("/api/v1/deployments").then().statusCode(202).extract().jsonPath().getString("id");
    }

    private static Command awaitCommand(FakeDevice device, String deviceId, Command.Type type, String deploymentId)
            throws InterruptedException {
        FakeDevice.Received r = device.await(m -> {
            if (!m.topic().equals(Topics.cmd(deviceId))) {
                return false;
            }
            Command c = CODEC.decode(m.payload(), Command.class);
            return c.type() == type && (deploymentId == null || deploymentId.equals(c.deploymentId()));
        }, WAIT);
        return CODEC.decode(r.payload(), Command.class);
    }

    private static ManifestSigner.Verifier verifier() {
        List<String> keys = api().get("/api/v1/server-keys").jsonPath().getList("keys.publicKey");
        List<PublicKey> pinned = keys.stream().map(ManifestSigner::decodePublic).toList();
        return new ManifestSigner.Verifier(pinned);
    }

    @Test
    void deviceDownloadsVerifiesCommitsAndReports() throws Exception {
        Api.createClass("flow-gw");
        String password = Api.registerDevice("flow-1", "flow-gw");
        byte[] model = DemoModels.classifier(501);
        String sha = Hashing.sha256Hex(model);
        long version = Api.upload("flow-model", model);
        ModelRef ref = new ModelRef("flow-model", version, sha);

        try (FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), "flow-1", password)) {
            dev.subscribe(Topics.cmd("flow-1"), "edgefleet/v1/classes/flow-gw/artifacts/#");
            dev.publish(Topics.status("flow-1"), encode(DeviceStatus.of("flow-1", DeviceStatus.State.ONLINE, null, null,
                    "agent-test/1")), true);
            await().atMost(WAIT).untilAsserted(() ->
                    api().get("/api/v1/devices/flow-1").then().body("online", equalTo(true)));

            String id = deploy(Map.of("model", "flow-model", "version", version, "classId", "flow-gw", "policy", ALL_AT_ONCE));
            Command deployCmd = awaitCommand(dev, "flow-1", Command.Type.DEPLOY, id);
            assertEquals(ref, deployCmd.artifact().model());
            verifier().verify(deployCmd, "flow-1", System.currentTimeMillis()); // signed for this device (promise 3)
            assertEquals(Topics.manifest("flow-gw", sha), deployCmd.artifact().manifestTopic());
            assertEquals(40.0, deployCmd.health().maxP95LatencyMs(), "health defaults to the class SLO");
            assertEquals(0.05, deployCmd.health().maxErrorRate());
            await().atMost(WAIT).untilAsserted(() ->
                    api().get("/api/v1/deployments/" + id).then().body("targets[0].state", equalTo("SENT")));

            // The retained manifest and chunks: signature, chunk hashes and whole-file hash must all check out.
            FakeDevice.Received m = dev.await(r -> r.topic().equals(deployCmd.artifact().manifestTopic()), WAIT);
            ArtifactManifest manifest = CODEC.decode(m.payload(), ArtifactManifest.class);
            verifier().verify(manifest);
            assertEquals(model.length, manifest.size());
            assertTrue(manifest.chunkCount() > 1, "the %test chunk size of 1 KiB splits the model");
            ByteArrayOutputStream assembled = new ByteArrayOutputStream();
            for (int i = 0; i < manifest.chunkCount(); i++) {
                String topic = Topics.chunk("flow-gw", sha, i);
                byte[] chunk = dev.await(r -> r.topic().equals(topic), WAIT).payload();
                assertEquals(manifest.chunks().get(i), Hashing.sha256Hex(chunk), "chunk " + i);
                assembled.write(chunk);
            }
            assertArrayEquals(model, assembled.toByteArray());

            for (DeviceEvent.Type t : List.of(DeviceEvent.Type.DEPLOY_RECEIVED, DeviceEvent.Type.DOWNLOADED,
                    DeviceEvent.Type.VERIFIED, DeviceEvent.Type.ACTIVATED)) {
                dev.publish(Topics.events("flow-1"), encode(DeviceEvent.of("flow-1", t, id, ref, null, null)), false);
            }
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/deployments/" + id).then()
                    .body("targets[0].state", equalTo("ACTIVATED"))
                    .body("summary.inProgress", equalTo(1))
                    .body("status", equalTo("IN_PROGRESS")));

            dev.publish(Topics.events("flow-1"), encode(DeviceEvent.of("flow-1", DeviceEvent.Type.COMMITTED, id, ref,
                    null, "health window passed")), false);
            dev.publish(Topics.status("flow-1"), encode(DeviceStatus.of("flow-1", DeviceStatus.State.ONLINE, ref, null,
                    "agent-test/1")), true);
            dev.publish(Topics.telemetry("flow-1"), encode(window("flow-1", 1, ref)), false);

            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/deployments/" + id).then()
                    .body("status", equalTo("COMPLETED"))
                    .body("targets[0].state", equalTo("COMMITTED"))
                    .body("targets[0].detail", equalTo("health window passed"))
                    .body("summary.committed", equalTo(1)));
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/flow-1").then()
                    .body("online", equalTo(true))
                    .body("agentVersion", equalTo("agent-test/1"))
                    .body("active.sha256", equalTo(sha))
                    .body("active.version", equalTo((int) version))
                    .body("lastTelemetry.seq", equalTo(1))
                    .body("lastTelemetry.inferences", equalTo(250))
                    .body("lastTelemetry.latency.p95", equalTo(9.5f))
                    .body("lastTelemetry.model.sha256", equalTo(sha)));
            api().get("/api/v1/devices/flow-1/events").then()
                    .body("type", contains("COMMITTED", "ACTIVATED", "VERIFIED", "DOWNLOADED", "DEPLOY_RECEIVED"));
            api().get("/api/v1/devices/flow-1/telemetry").then().body("$", hasSize(1)).body("[0].errors", equalTo(2));
            api().get("/api/v1/deployments").then().body("find { it.id == '" + id + "' }.status", equalTo("COMPLETED"));

            // No rollout needs the artifact any more: its retained messages are cleared.
            await().atMost(WAIT).untilAsserted(() -> {
                try (FakeDevice late = FakeDevice.connect(Api.brokerUrl(), "flow-1", password)) {
                    late.subscribe("edgefleet/v1/classes/flow-gw/artifacts/#");
                    Thread.sleep(300);
                    assertEquals(List.of(), late.received(), "retained artifact messages left on the broker");
                }
            });
        }
    }

    @Test
    void malformedMessagesAreCountedAndTheConsumerKeepsWorking() throws Exception {
        Api.createClass("bad-gw");
        String password = Api.registerDevice("bad-1", "bad-gw");
        JsonPath before = api().get("/api/v1/stats").jsonPath();
        long malformedBefore = before.getLong("malformedDropped.telemetry");
        long duplicatesBefore = before.getLong("duplicatesDropped");
        try (FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), "bad-1", password)) {
            dev.publish(Topics.telemetry("bad-1"), "{ this is not json".getBytes(StandardCharsets.UTF_8), false);
            dev.publish(Topics.telemetry("bad-1"), encode(window("someone-else", 1, null)), false);
            dev.publish(Topics.telemetry("bad-1"), "{\"v\":1,\"id\":\"x\",\"ts\":1,\"deviceId\":\"bad-1\"}");
            TelemetryWindow good = window("bad-1", 7, null);
            dev.publish(Topics.telemetry("bad-1"), encode(good), false);
            dev.publish(Topics.telemetry("bad-1"), encode(good), false);
            await().atMost(WAIT).untilAsserted(() -> {
                JsonPath after = api().get("/api/v1/stats").jsonPath();
                assertEquals(malformedBefore + 3, after.getLong("malformedDropped.telemetry"));
                assertEquals(duplicatesBefore + 1, after.getLong("duplicatesDropped"));
            });
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/bad-1/telemetry").then()
                    .body("$", hasSize(1)).body("[0].seq", equalTo(7)));
            assertTrue(api().get("/api/v1/stats").jsonPath().getLong("telemetryWindowsStored") >= 1);
        }
    }

    @Test
    void rollbackSendsCommandsAndStopsTheRest() throws Exception {
        Api.createClass("rb-gw");
        String p1 = Api.registerDevice("rb-1", "rb-gw");
        String p2 = Api.registerDevice("rb-2", "rb-gw");
        byte[] model = DemoModels.classifier(601);
        long version = Api.upload("rb-model", model);
        ModelRef ref = new ModelRef("rb-model", version, Hashing.sha256Hex(model));
        try (FakeDevice d1 = FakeDevice.connect(Api.brokerUrl(), "rb-1", p1);
             FakeDevice d2 = FakeDevice.connect(Api.brokerUrl(), "rb-2", p2)) {
            d1.subscribe(Topics.cmd("rb-1"));
            d2.subscribe(Topics.cmd("rb-2"));
            String id = deploy(Map.of("model", "rb-model", "version", version, "classId", "rb-gw",
                    "health", Map.of("maxP95LatencyMs", 25, "windows", 3), "policy", ALL_AT_ONCE));
            Command cmd = awaitCommand(d1, "rb-1", Command.Type.DEPLOY, id);
            assertEquals(25.0, cmd.health().maxP95LatencyMs());
            assertEquals(3, cmd.health().windows());
            awaitCommand(d2, "rb-2", Command.Type.DEPLOY, id);
            d1.publish(Topics.events("rb-1"), encode(DeviceEvent.of("rb-1", DeviceEvent.Type.ACTIVATED, id, ref, null, null)), false);
            d1.publish(Topics.events("rb-1"), encode(DeviceEvent.of("rb-1", DeviceEvent.Type.COMMITTED, id, ref, null, null)), false);
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/deployments/" + id).then()
                    .body("summary.committed", equalTo(1)).body("summary.pending", equalTo(1)));

            json().body(Map.of("reason", "accuracy dropped")).post("/api/v1/deployments/" + id + "/rollback").then()
                    .statusCode(202)
                    .body("deploymentId", equalTo(id))
                    .body("reason", equalTo("accuracy dropped"))
                    .body("sent.deviceId", contains("rb-1"))
                    .body("cancelled", contains("rb-2"));
            Command rollback = awaitCommand(d1, "rb-1", Command.Type.ROLLBACK, id);
            assertEquals("accuracy dropped", rollback.reason());
            verifier().verify(rollback, "rb-1", System.currentTimeMillis());
            api().get("/api/v1/deployments/" + id).then()
                    .body("status", equalTo("ROLLED_BACK"))
                    .body("rollbackReason", equalTo("accuracy dropped"))
                    .body("targets.find { it.deviceId == 'rb-2' }.state", equalTo("FAILED"))
                    .body("targets.find { it.deviceId == 'rb-2' }.reason", equalTo("OPERATOR_REQUEST"));

            d1.publish(Topics.events("rb-1"), encode(DeviceEvent.of("rb-1", DeviceEvent.Type.ROLLED_BACK, id, ref,
                    ReasonCode.OPERATOR_REQUEST, "back to previous model")), false);
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/deployments/" + id).then()
                    .body("targets.find { it.deviceId == 'rb-1' }.state", equalTo("ROLLED_BACK"))
                    .body("summary.rolledBack", equalTo(1))
                    .body("summary.failed", equalTo(1)));

            // rb-2 activates late anyway: it is told to roll back at once.
            d2.publish(Topics.events("rb-2"), encode(DeviceEvent.of("rb-2", DeviceEvent.Type.ACTIVATED, id, ref, null, null)), false);
            awaitCommand(d2, "rb-2", Command.Type.ROLLBACK, id);

            // Device-level rollback.
            json().body(Map.of("reason", "field report")).post("/api/v1/devices/rb-1/rollback").then().statusCode(202)
                    .body("deviceId", equalTo("rb-1"))
                    .body("reason", equalTo("field report"));
            d1.await(r -> r.topic().equals(Topics.cmd("rb-1"))
                    && "field report".equals(CODEC.decode(r.payload(), Command.class).reason()), WAIT);
        }
        json().body(Map.of()).post("/api/v1/deployments/no-such-id/rollback").then().statusCode(404);
        json().body(Map.of()).post("/api/v1/devices/nobody/rollback").then().statusCode(404);
    }

    @Test
    void deployCommandIsResentWhenTheDeviceComesOnlineAndNewerDeploymentsSupersede() throws Exception {
        Api.createClass("late-gw");
        String password = Api.registerDevice("late-1", "late-gw");
        long v1 = Api.upload("late-model", DemoModels.classifier(701));
        long v2 = Api.upload("late-model", DemoModels.classifier(702));
        String first = deploy(Map.of("model", "late-model", "version", v1, "deviceIds", List.of("late-1"), "policy", ALL_AT_ONCE));
        await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/deployments/" + first).then()
                .body("targets[0].state", equalTo("SENT")));
        String second = deploy(Map.of("model", "late-model", "version", v2, "deviceIds", List.of("late-1", "late-1"),
                "policy", ALL_AT_ONCE));
        api().get("/api/v1/deployments/" + first).then()
                .body("status", equalTo("FAILED"))
                .body("targets[0].reason", equalTo("SUPERSEDED"))
                .body("targets[0].detail", equalTo("superseded by deployment " + second));
        api().get("/api/v1/deployments/" + second).then().body("targets", hasSize(1));

        // The device was offline when the command went out (clean session: it is gone); coming online resends it.
        try (FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), "late-1", password)) {
            dev.subscribe(Topics.cmd("late-1"));
            dev.publish(Topics.status("late-1"), encode(DeviceStatus.of("late-1", DeviceStatus.State.ONLINE, null, null,
                    "agent-test/1")), true);
            Command cmd = awaitCommand(dev, "late-1", Command.Type.DEPLOY, second);
            assertNotNull(cmd.artifact());
            assertEquals(v2, cmd.artifact().model().version());
        }
    }

    @Test
    void deploymentRequestsAreValidated() {
        Api.createClass("val-gw");
        Api.createClass("val-empty");
        json().body(Map.of("id", "val-tiny", "arch", "arm64", "cores", 1, "ramMb", 64, "storageMb", 64,
                "precisions", List.of("int8"), "slo", Map.of("p95LatencyMs", 100, "maxModelBytes", 100)))
                .post("/api/v1/device-classes").then().statusCode(201);
        Api.registerDevice("val-1", "val-gw");
        Api.registerDevice("val-t", "val-tiny");
        long v = Api.upload("val-model", DemoModels.classifier(801));
        String base = "/api/v1/deployments";
        json().body(Map.of("model", "val-model", "version", v, "classId", "val-gw", "deviceIds", List.of("val-1")))
                .post(base).then().statusCode(400).body("message", equalTo("give exactly one of 'classId' (optionally with 'tags'), 'tags' and 'deviceIds'"));
        json().body(Map.of("model", "val-model", "version", v)).post(base).then().statusCode(400);
        json().body(Map.of("model", "val-model", "version", 99, "classId", "val-gw")).post(base).then().statusCode(400)
                .body("error", equalTo("UNKNOWN_MODEL"))
                .body("message", equalTo("model 'val-model' version 99 does not exist"));
        json().body(Map.of("model", "val-model", "version", v, "classId", "nope")).post(base).then().statusCode(400)
                .body("error", equalTo("UNKNOWN_DEVICE_CLASS"));
        json().body(Map.of("model", "val-model", "version", v, "deviceIds", List.of("val-1", "ghost"))).post(base)
                .then().statusCode(400).body("error", equalTo("UNKNOWN_DEVICE"))
                .body("message", equalTo("device 'ghost' does not exist"));
        json().body(Map.of("model", "val-model", "version", v, "classId", "val-empty")).post(base).then().statusCode(400)
                .body("error", equalTo("NO_TARGETS"));
        json().body(Map.of("model", "val-model", "version", v, "classId", "val-tiny")).post(base).then().statusCode(400)
                .body("error", equalTo("MODEL_EXCEEDS_CLASS_LIMIT"));
        json().body(Map.of("model", "val-model", "version", v, "classId", "val-gw", "health", Map.of("maxErrorRate", 2)))
                .post(base).then().statusCode(400).body("fields.field", contains("health.maxErrorRate"));
        api().get(base + "/no-such-id").then().statusCode(404).body("message", equalTo("deployment 'no-such-id' does not exist"));
    }
}
