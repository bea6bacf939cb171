package io.edgefleet.server.rollout;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.quantize.DynamicInt8Quantizer;
import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModeTimes;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.model.ModelService;
import io.edgefleet.server.security.SigningKeys;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.FakeDevice;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Graceful degradation on the server, end to end through MQTT: a deployment names a light fallback (refused when
 * it is not a gated, lighter variant of the same model), the device's DEPLOY carries the signed fallback reference
 * and its manifest is published on the class's artifact topics, and the windows' time per mode and escalation rate
 * are stored and shown with the device.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class DegradationFlowTest {
    private static final JsonCodec CODEC = new JsonCodec();
    private static final Duration WAIT = Duration.ofSeconds(45);

    @Inject
    ModelService models;
    @Inject
    SigningKeys keys;

    static byte[] int8(byte[] model) throws Exception {
        return new DynamicInt8Quantizer().quantize(OnnxModel.read(model)).model().toBytes();
    }

    private static void refused(long version, long fallback, String reason) {
        json().body(Map.of("model", "dg-model", "version", version, "classId", "dg-gw",
                        "fallback", Map.of("version", fallback), "policy", Map.of("allAtOnce", true)))
                .post("/api/v1/deployments").then().statusCode(400)
                .body("fields[0].field", equalTo("fallback.version"))
                .body("message", containsString(reason));
    }

    @Test
    void deploymentShipsItsFallbackAndTheWindowsModeTimesAreStored() throws Exception {
        Api.createClass("dg-gw");
        String password = Api.registerDevice("dg-1", "dg-gw");
        byte[] full = DemoModels.classifier(941);
        byte[] light = int8(full);
        long vFull = Api.upload("dg-model", full);
        long vLight = models.register("dg-model", light, new ModelService.Lineage(vFull, "{\"recipe\":\"dynamic-int8\"}"))
                .version();
        byte[] other = DemoModels.classifier(942);
        long vOther = Api.upload("dg-model", other);
        long vOtherLight = models.register("dg-model", int8(other), new ModelService.Lineage(vOther,
                "{\"recipe\":\"dynamic-int8\"}")).version();

        refused(vFull, vOther, "an upload, not a variant that passed the accuracy gate");
        refused(vFull, vOtherLight, "a variant of the same model");
        refused(vFull, 999, "no such version");
        refused(vLight, vLight, "another variant");
        api().get("/api/v1/deployments").then().body("findAll { it.model == 'dg-model' }.size()", equalTo(0));

        try (FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), "dg-1", password)) {
            dev.subscribe(Topics.cmd("dg-1"));
            dev.publish(Topics.status("dg-1"), CODEC.encode(DeviceStatus.of("dg-1", DeviceStatus.State.ONLINE, null, null,
                    "t/1")), true);
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/dg-1").then().body("online", equalTo(true)));

            String id = json().body(Map.of("model", "dg-model", "version", vFull, "classId", "dg-gw",
                            "fallback", Map.of("version", vLight), "policy", Map.of("allAtOnce", true)))
                    .post("/api/v1/deployments").then().statusCode(202)
                    .body("fallback.version", equalTo((int) vLight))
                    .body("fallback.sha256", equalTo(Hashing.sha256Hex(light)))
                    .extract().jsonPath().getString("id");

            await().atMost(WAIT).until(() -> deploy(dev, id) != null);
            Command cmd = deploy(dev, id);
            ModelRef lightRef = new ModelRef("dg-model", vLight, Hashing.sha256Hex(light));
            assertEquals(lightRef, cmd.fallback().model());
            assertEquals(light.length, cmd.fallback().size());
            assertEquals(Topics.manifest("dg-gw", lightRef.sha256()), cmd.fallback().manifestTopic());
            // the fallback reference is under the command's signature, and its manifest is signed on the class topics
            ManifestSigner.Verifier verifier = new ManifestSigner.Verifier(keys.publicKeysBase64().stream()
                    .map(ManifestSigner::decodePublic).toList());
            verifier.verify(cmd, "dg-1", System.currentTimeMillis());
            dev.subscribe(cmd.fallback().manifestTopic());
            await().atMost(WAIT).until(() -> dev.received().stream()
                    .anyMatch(r -> r.topic().equals(cmd.fallback().manifestTopic())));
            ArtifactManifest m = CODEC.decode(dev.received().stream()
                    .filter(r -> r.topic().equals(cmd.fallback().manifestTopic())).findFirst().orElseThrow().payload(),
                    ArtifactManifest.class);
            verifier.verify(m);
            assertEquals(lightRef, m.model());

            ModelRef fullRef = cmd.artifact().model();
            for (DeviceEvent.Type t : List.of(DeviceEvent.Type.ACTIVATED, DeviceEvent.Type.COMMITTED)) {
                dev.publish(Topics.events("dg-1"), CODEC.encode(DeviceEvent.of("dg-1", t, id, fullRef, null, "test")), false);
            }
            long end = System.currentTimeMillis();
            ModeTimes modes = new ModeTimes(2.5, 6.0, 1.5, 40, 10, 0.25, "light");
            dev.publish(Topics.telemetry("dg-1"), CODEC.encode(new TelemetryWindow(1, "dg-1-w1", end, "dg-1", 1,
                    end - 10_000, end, fullRef, 400, 0, new LatencyStats(2, 4, 5, 5, 2), 1.0, null, 0, false, null,
                    null, null, null, modes)), false);

            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/dg-1/telemetry").then()
                    .body("size()", equalTo(1)));
            JsonPath stored = api().get("/api/v1/devices/dg-1/telemetry").jsonPath();
            assertEquals(2.5, stored.getDouble("[0].modes.fullSeconds"), 1e-9);
            assertEquals(6.0, stored.getDouble("[0].modes.lightSeconds"), 1e-9);
            assertEquals(1.5, stored.getDouble("[0].modes.cascadeSeconds"), 1e-9);
            assertEquals(40, stored.getLong("[0].modes.cascadeInferences"));
            assertEquals(10, stored.getLong("[0].modes.escalations"));
            assertEquals(0.25, stored.getDouble("[0].modes.escalationRate"), 1e-9);
            assertEquals("light", stored.getString("[0].modes.mode"));
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/dg-1").then()
                    .body("lastTelemetry.modes.mode", equalTo("light"))
                    .body("lastTelemetry.modes.escalationRate", equalTo(0.25f)));
            assertNotNull(api().get("/api/v1/deployments/" + id).jsonPath().get("fallback"));

            // A mode switch is a device event: stored and shown on the device (REST and console), moving no target.
            dev.publish(Topics.events("dg-1"), CODEC.encode(DeviceEvent.of("dg-1", DeviceEvent.Type.MODE_CHANGED, null,
                    fullRef, ReasonCode.THERMAL_THROTTLING, "full -> light: thermal throttling (thermal_zone0)")), false);
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/dg-1/events").then()
                    .body("[0].type", equalTo("MODE_CHANGED"))
                    .body("[0].reason", equalTo("THERMAL_THROTTLING"))
                    .body("[0].detail", equalTo("full -> light: thermal throttling (thermal_zone0)"))
                    .body("[0].deploymentId", equalTo(null)));
            api().get("/api/v1/deployments/" + id + "/targets").then().log().ifValidationFails()
                    .body("find { it.deviceId == 'dg-1' }.state", equalTo("COMMITTED"));
            String page = api().get("/console/devices/dg-1").then().statusCode(200).extract().asString();
            assertTrue(page.contains("MODE_CHANGED") && page.contains("THERMAL_THROTTLING"), "the console shows the switch");
        }
    }

    private static DeviceEvent modeChanged(String device, String model, long ts, String detail) {
        return new DeviceEvent(Protocol.VERSION, Protocol.newMessageId(), ts, device, DeviceEvent.Type.MODE_CHANGED, null,
                new ModelRef(model, 1, "00".repeat(32)), ReasonCode.OPERATOR_REQUEST, detail, null);
    }

    /** The device page's time per mode: from the stored MODE_CHANGED events, per model, over a window ending now. */
    @Test
    void timePerModeComesFromTheStoredModeChangedEvents() throws Exception {
        Api.createClass("dg-mt-gw");
        String password = Api.registerDevice("dg-mt-1", "dg-mt-gw");
        long min = 60_000;
        long t0 = System.currentTimeMillis();
        try (FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), "dg-mt-1", password)) {
            // dg-mt-kws: light from before the window, full for 30 min, light again for the last 10 min
            for (DeviceEvent e : List.of(modeChanged("dg-mt-1", "dg-mt-kws", t0 - 90 * min, "full -> light: thermal throttling"),
                    modeChanged("dg-mt-1", "dg-mt-kws", t0 - 40 * min, "light -> full: 3 calm windows"),
                    modeChanged("dg-mt-1", "dg-mt-kws", t0 - 10 * min, "full -> light: p95 12.40 ms over the SLO 10.00 ms"),
                    modeChanged("dg-mt-1", "dg-mt-kws", t0 - 5 * min, "not a switch this server can read"),
                    modeChanged("dg-mt-1", "dg-mt-digits", t0 - 15 * min, "full -> cascade: operator"))) {
                dev.publish(Topics.events("dg-mt-1"), CODEC.encode(e), false);
            }
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/dg-mt-1/events").then().body("size()", equalTo(5)));
        }
        JsonPath hour = api().get("/api/v1/devices/dg-mt-1/mode-times?hours=1").then().statusCode(200).extract().jsonPath();
        long late = hour.getLong("to") - t0; // the server's now is a little after the events were made
        assertTrue(late >= 0 && late < 60_000, "window ends " + late + " ms after the events were made");
        assertEquals(3_600_000L, hour.getLong("to") - hour.getLong("from"));
        assertEquals(1, hour.getInt("skippedEvents"));
        assertEquals(List.of("dg-mt-digits", "dg-mt-kws"), hour.getList("models.model"));
        assertEquals("cascade", hour.getString("models[0].modeAtEnd"));
        assertEquals(1, hour.getInt("models[0].switches"));
        assertEquals(List.of("full", "cascade"), hour.getList("models[0].modes.mode"));
        assertEquals(45 * 60 - late / 1000.0, hour.getDouble("models[0].modes[0].seconds"), 1e-3);
        assertEquals(15 * 60 + late / 1000.0, hour.getDouble("models[0].modes[1].seconds"), 1e-3);
        assertEquals("light", hour.getString("models[1].modeAtEnd"));
        assertEquals(2, hour.getInt("models[1].switches"));
        assertEquals(List.of("light", "full"), hour.getList("models[1].modes.mode"));
        assertEquals(30 * 60, hour.getDouble("models[1].modes[0].seconds"), 1e-3);
        assertEquals(0.5, hour.getDouble("models[1].modes[0].share"), 1e-6);
        assertEquals(30 * 60, hour.getDouble("models[1].modes[1].seconds"), 1e-3);

        // over a day the first switch is inside the window: full before it
        JsonPath day = api().get("/api/v1/devices/dg-mt-1/mode-times").then().statusCode(200).extract().jsonPath();
        assertEquals(86_400_000L, day.getLong("to") - day.getLong("from"));
        assertEquals(3, day.getInt("models[1].switches"));
        assertEquals(List.of("full", "light"), day.getList("models[1].modes.mode"));
        assertEquals(60 * 60 + (day.getLong("to") - t0) / 1000.0, day.getDouble("models[1].modes[1].seconds"), 1e-3);

        api().get("/api/v1/devices/dg-mt-1/mode-times?hours=0").then().statusCode(400)
                .body("message", containsString("hours must be an integer between 1 and 744"));
        api().get("/api/v1/devices/dg-mt-1/mode-times?hours=745").then().statusCode(400);
        api().get("/api/v1/devices/dg-mt-1/mode-times?hours=a").then().statusCode(400);
        api().get("/api/v1/devices/dg-mt-nobody/mode-times").then().statusCode(404);

        String page = api().get("/console/devices/dg-mt-1").then().statusCode(200).extract().asString();
        assertTrue(page.contains("<tr data-model=\"dg-mt-kws\"><td>dg-mt-kws</td>"), page);
        assertTrue(page.contains("<td data-mode=\"cascade\"></td><td>3</td><td><b>light</b></td>"), "kws: 3 switches, light now");
        assertTrue(page.contains("<td>1</td><td><b>cascade</b></td>"), "digits: 1 switch, cascade now");
    }

    private static Command deploy(FakeDevice dev, String deploymentId) {
        return dev.received().stream().filter(r -> r.topic().equals(Topics.cmd("dg-1")))
                .map(r -> CODEC.decode(r.payload(), Command.class))
                .filter(c -> c.type() == Command.Type.DEPLOY && deploymentId.equals(c.deploymentId()))
                .findFirst().orElse(null);
    }
}
