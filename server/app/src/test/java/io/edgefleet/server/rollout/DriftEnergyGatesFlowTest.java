package io.edgefleet.server.rollout;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.alert.AlertService;
import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.FakeDevice;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The drift and energy figures telemetry carries, end to end through the MQTT ingest: a canary whose windows
 * report drift over the policy's {@code maxDrift} halts the deployment at its gate (the canary goes back, the other
 * device never hears of it), and an energy rule on the class SLO fires on the same windows' energy per inference.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class DriftEnergyGatesFlowTest {
    private static final JsonCodec CODEC = new JsonCodec();
    private static final Duration WAIT = Duration.ofSeconds(45);
    private static final AtomicLong SEQ = new AtomicLong();

    @Inject
    AlertService alerts;

    private static FakeDevice online(String id, String password) throws Exception {
        FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), id, password);
        dev.subscribe(Topics.cmd(id));
        dev.publish(Topics.status(id), CODEC.encode(DeviceStatus.of(id, DeviceStatus.State.ONLINE, null, null, "t/1")), true);
        await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/" + id).then().body("online", equalTo(true)));
        return dev;
    }

    private static List<Command> commands(FakeDevice dev, String deviceId, String depId) {
        return dev.received().stream().filter(r -> r.topic().equals(Topics.cmd(deviceId)))
                .map(r -> CODEC.decode(r.payload(), Command.class)).filter(c -> depId.equals(c.deploymentId())).toList();
    }

    /** One 1 s window of 100 inferences, p95 5 ms, no errors, with this energy per inference and drift score. */
    private static void window(FakeDevice dev, String deviceId, ModelRef model, double energyMj, double drift) throws Exception {
        long end = System.currentTimeMillis();
        long seq = SEQ.incrementAndGet();
        dev.publish(Topics.telemetry(deviceId), CODEC.encode(new TelemetryWindow(1, deviceId + "-w" + seq, end, deviceId,
                seq, end - 1000, end, model, 100, 0, new LatencyStats(2, 4, 5, 5, 2), energyMj, drift, 0, false)), false);
    }

    @Test
    void driftOverMaxDriftHaltsTheCanaryAtItsGateAndTheEnergyRuleFires() throws Exception {
        Map<String, Object> cls = new HashMap<>(Api.deviceClass("de-gw"));
        cls.put("slo", Map.of("p95LatencyMs", 40.0, "maxModelBytes", 10_000_000, "maxEnergyMj", 5.0));
        json().body(cls).post("/api/v1/device-classes").then().statusCode(201);
        String p1 = Api.registerDevice("de-1", "de-gw");
        String p2 = Api.registerDevice("de-2", "de-gw");
        byte[] oldModel = DemoModels.classifier(931);
        byte[] newModel = DemoModels.classifier(932);
        long vOld = Api.upload("de-model", oldModel);
        long vNew = Api.upload("de-model", newModel);
        ModelRef before = new ModelRef("de-model", vOld, Hashing.sha256Hex(oldModel));
        ModelRef after = new ModelRef("de-model", vNew, Hashing.sha256Hex(newModel));
        json().body(Map.of("id", "de-energy", "metric", "ENERGY_MJ_PER_INFERENCE", "classId", "de-gw",
                        "lookbackSeconds", 60, "minSamples", 1, "severity", "critical"))
                .post("/api/v1/alert-rules").then().statusCode(201).body("thresholdSource", equalTo("class SLO"));

        try (FakeDevice d1 = online("de-1", p1); FakeDevice d2 = online("de-2", p2)) {
            // the baseline: both devices on the old version, calm inputs, within the energy SLO
            window(d1, "de-1", before, 2.0, 0.05);
            window(d2, "de-2", before, 2.0, 0.05);
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/de-1/telemetry").then()
                    .body("size()", equalTo(1)));
            String id = json().body(Map.of("model", "de-model", "version", vNew, "classId", "de-gw", "policy", Map.of(
                            "canary", Map.of("count", 1), "batches", Map.of("size", 1), "soakSeconds", 1,
                            "gates", Map.of("latency", false, "energy", false, "maxDrift", 0.25, "minWindows", 1))))
                    .post("/api/v1/deployments").then().statusCode(202).body("waves.count", equalTo(2))
                    .extract().jsonPath().getString("id");
            String canary = api().get("/api/v1/deployments/" + id).jsonPath().getString("targets.find { it.wave == 1 }.deviceId");
            FakeDevice c = canary.equals("de-1") ? d1 : d2;
            FakeDevice other = canary.equals("de-1") ? d2 : d1;
            String otherId = canary.equals("de-1") ? "de-2" : "de-1";
            await().atMost(WAIT).until(() -> commands(c, canary, id).stream().anyMatch(x -> x.type() == Command.Type.DEPLOY));
            for (DeviceEvent.Type t : List.of(DeviceEvent.Type.ACTIVATED, DeviceEvent.Type.COMMITTED)) {
                c.publish(Topics.events(canary), CODEC.encode(DeviceEvent.of(canary, t, id, after, null, "test")), false);
            }
            // the new version's inputs drift and it draws 12 mJ per inference (the class SLO is 5), until the gate acts
            await().atMost(WAIT).pollInterval(Duration.ofMillis(700)).until(() -> {
                window(c, canary, after, 12.0, 0.9);
                return "ABORTED".equals(api().get("/api/v1/deployments/" + id).jsonPath().getString("status"));
            });
            JsonPath dep = api().get("/api/v1/deployments/" + id).then().statusCode(200)
                    .body("halt.rule", equalTo("gate:drift"))
                    .body("halt.devices.rolledBack", contains(canary))
                    .body("gates.results.find { it.gate == 'drift' }.breached", equalTo(true))
                    .body("gates.results.find { it.gate == 'drift' }.limit", equalTo(0.25f))
                    .extract().jsonPath();
            assertEquals(0.9, dep.getDouble("gates.results.find { it.gate == 'drift' }.observed"), 1e-9, dep.prettify());
            assertEquals(0.05, dep.getDouble("gates.results.find { it.gate == 'drift' }.baseline"), 1e-9, dep.prettify());
            await().atMost(WAIT).until(() -> commands(c, canary, id).stream().anyMatch(x -> x.type() == Command.Type.ROLLBACK));
            assertTrue(commands(other, otherId, id).isEmpty(), "the second wave never heard of it");

            // the energy rule over the same telemetry: the new version is over the class's 5 mJ SLO
            alerts.evaluate(System.currentTimeMillis());
            JsonPath firing = api().get("/api/v1/alerts?state=FIRING&rule=de-energy").then().statusCode(200)
                    .body("size()", equalTo(1))
                    .body("[0].labels.class", equalTo("de-gw"))
                    .body("[0].labels.version", equalTo(Long.toString(vNew)))
                    .extract().jsonPath();
            assertEquals(12.0, firing.getDouble("[0].value"), 1e-9, firing.prettify());
            assertEquals(5.0, firing.getDouble("[0].threshold"), 1e-9, firing.prettify());
        }
    }
}
