package io.edgefleet.server.rollout;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.FakeDevice;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Waves over the embedded broker with Paho clients standing in for agents: who gets a command, and when. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class WavesFlowTest {
    private static final JsonCodec CODEC = new JsonCodec();

    @jakarta.inject.Inject
    WaveDriver driver;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static void event(FakeDevice dev, String deviceId, DeviceEvent.Type type, String depId, ModelRef ref)
            throws Exception {
        dev.publish(Topics.events(deviceId), CODEC.encode(DeviceEvent.of(deviceId, type, depId, ref, null, "test")), false);
    }

    private static boolean gotDeploy(FakeDevice dev, String deviceId, String depId) {
        return dev.received().stream().filter(r -> r.topic().equals(Topics.cmd(deviceId)))
                .map(r -> CODEC.decode(r.payload(), Command.class))
                .anyMatch(c -> c.type() == Command.Type.DEPLOY && depId.equals(c.deploymentId()));
    }

    private static FakeDevice online(String id, String password) throws Exception {
        FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), id, password);
        dev.subscribe(Topics.cmd(id));
        dev.publish(Topics.status(id), CODEC.encode(DeviceStatus.of(id, DeviceStatus.State.ONLINE, null, null, "t/1")), true);
        await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/" + id).then().body("online", equalTo(true)));
        return dev;
    }

    @Test
    void aPolicyThatCannotWorkIsRefusedNamingTheField() {
        Api.createClass("wv-val");
        Api.registerDevice("wv-val-1", "wv-val", "east");
        Api.registerDevice("wv-val-2", "wv-val");
        long v = Api.upload("wv-val-model", DemoModels.classifier(901));
        String base = "/api/v1/deployments";
        json().body(Map.of("model", "wv-val-model", "version", v, "classId", "wv-val", "policy",
                        Map.of("canary", Map.of("count", 3))))
                .post(base).then().statusCode(400).body("error", equalTo("VALIDATION_FAILED"))
                .body("fields[0].field", equalTo("policy.canary.count"))
                .body("message", containsString("larger than the target (2 devices)"));
        json().body(Map.of("model", "wv-val-model", "version", v, "classId", "wv-val", "policy",
                        Map.of("abort", Map.of("thresholdPercentage", 0))))
                .post(base).then().statusCode(400).body("fields[0].field", equalTo("policy.abort.thresholdPercentage"));
        json().body(Map.of("model", "wv-val-model", "version", v, "classId", "wv-val", "tags", List.of("west")))
                .post(base).then().statusCode(400).body("fields[0].field", equalTo("tags"));
        json().body(Map.of("model", "wv-val-model", "version", v, "classId", "wv-nope", "policy", Map.of()))
                .post(base).then().statusCode(400).body("error", equalTo("UNKNOWN_DEVICE_CLASS"))
                .body("fields[0].field", equalTo("classId"));
        json().body(Map.of("model", "wv-val-model", "version", v, "classId", "wv-val", "policy",
                        Map.of("abort", Map.of("failureTypes", List.of("EXPLODED")))))
                .post(base).then().statusCode(400);
        // tags narrow a class target: one device carries "east"
        String id = json().body(Map.of("model", "wv-val-model", "version", v, "classId", "wv-val", "tags", List.of("east"),
                        "policy", Map.of("soakSeconds", 0)))
                .post(base).then().statusCode(202).body("targets.deviceId", contains("wv-val-1"))
                .body("tags", contains("east")).body("policy.canary.count", equalTo(1))
                .extract().jsonPath().getString("id");
        json().body(Map.of()).post(base + "/" + id + "/resume").then().statusCode(409).body("error", equalTo("CONFLICT"));
        json().body(Map.of()).post(base + "/missing/pause").then().statusCode(404);
        // the short all-at-once form takes no wave fields beside it
        json().body(Map.of("model", "wv-val-model", "version", v, "classId", "wv-val", "policy",
                        Map.of("allAtOnce", true, "soakSeconds", 30)))
                .post(base).then().statusCode(400).body("error", equalTo("VALIDATION_FAILED"))
                .body("fields[0].field", equalTo("policy.allAtOnce"));
    }

    @Test
    void withoutAPolicyADeploymentGoesOutInDefaultWavesAndAllAtOnceOnlyWhenAskedFor() {
        Api.createClass("wv-def");
        for (int i = 1; i <= 4; i++) {
            Api.registerDevice("wv-def-" + i, "wv-def");
        }
        long v1 = Api.upload("wv-def-model", DemoModels.classifier(911));
        long v2 = Api.upload("wv-def-model", DemoModels.classifier(912));
        long v3 = Api.upload("wv-def-model", DemoModels.classifier(913));
        String base = "/api/v1/deployments";
        // no policy: the documented defaults, a canary of one first, then half of the targets per wave
        String id = json().body(Map.of("model", "wv-def-model", "version", v1, "classId", "wv-def"))
                .post(base).then().statusCode(202)
                .body("waves.count", equalTo(3)).body("waves.current", equalTo(1))
                .body("policy.canary.count", equalTo(1)).body("policy.batches.percent", equalTo(50.0f))
                .body("policy.soakSeconds", equalTo((int) RolloutPolicy.DEFAULT_SOAK_SECONDS))
                .body("policy.successCondition.minCommittedPercent", equalTo(90.0f))
                .body("policy.abort.thresholdPercentage", equalTo(20.0f))
                .body("targets.findAll { it.wave == 1 }", hasSize(1))
                .body("targets.findAll { it.wave == 3 }", hasSize(1))
                .extract().jsonPath().getString("id");
        // the short explicit form: one wave, no gates, no abort rule
        json().body(Map.of("model", "wv-def-model", "version", v2, "classId", "wv-def", "policy",
                        Map.of("allAtOnce", true)))
                .post(base).then().statusCode(202).body("waves.count", equalTo(1))
                .body("policy.allAtOnce", equalTo(true)).body("policy.abort", nullValue())
                .body("targets.findAll { it.wave == 1 }", hasSize(4));
        // the long explicit form (docs and seams) stays valid: one wave of every target
        json().body(Map.of("model", "wv-def-model", "version", v3, "classId", "wv-def", "policy", Map.of(
                        "canary", Map.of("percent", 100), "batches", Map.of("percent", 100), "soakSeconds", 0,
                        "successCondition", Map.of("minCommittedPercent", 0),
                        "gates", Map.of("latency", false, "energy", false))))
                .post(base).then().statusCode(202).body("waves.count", equalTo(1))
                .body("targets.findAll { it.wave == 1 }", hasSize(4));
        // the later deployments superseded every target of the first
        api().get(base + "/" + id).then().body("targets.findAll { it.reason == 'SUPERSEDED' }", hasSize(4));
    }

    @Test
    void theCanaryGoesFirstAndTheNextWaveOnlyAfterItCommitted() throws Exception {
        Api.createClass("wv-ok");
        String p1 = Api.registerDevice("wv-ok-1", "wv-ok");
        String p2 = Api.registerDevice("wv-ok-2", "wv-ok");
        byte[] model = DemoModels.classifier(902);
        long v = Api.upload("wv-ok-model", model);
        ModelRef ref = new ModelRef("wv-ok-model", v, Hashing.sha256Hex(model));
        try (FakeDevice d1 = online("wv-ok-1", p1); FakeDevice d2 = online("wv-ok-2", p2)) {
            String id = json().body(Map.of("model", "wv-ok-model", "version", v, "classId", "wv-ok", "policy",
                            Map.of("soakSeconds", 0, "gates", Map.of("minWindows", 0))))
                    .post("/api/v1/deployments").then().statusCode(202).body("waves.count", equalTo(2))
                    .extract().jsonPath().getString("id");
            await().atMost(WAIT).until(() -> gotDeploy(d1, "wv-ok-1", id));
            Thread.sleep(1500);
            assertTrue(!gotDeploy(d2, "wv-ok-2", id), "the second wave waits for the canary");
            api().get("/api/v1/deployments/" + id).then().body("waves.current", equalTo(1))
                    .body("waves.phase", equalTo("DEPLOYING"));

            event(d1, "wv-ok-1", DeviceEvent.Type.ACTIVATED, id, ref);
            event(d1, "wv-ok-1", DeviceEvent.Type.COMMITTED, id, ref);
            await().atMost(WAIT).until(() -> gotDeploy(d2, "wv-ok-2", id));
            event(d2, "wv-ok-2", DeviceEvent.Type.COMMITTED, id, ref);
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/deployments/" + id).then()
                    .body("status", equalTo("COMPLETED")).body("waves.current", equalTo(2))
                    .body("waves.waves.committed", contains(1, 1)));
            json().body(Map.of()).post("/api/v1/deployments/" + id + "/pause").then().statusCode(409);
        }
    }

    @Test
    void aCanaryThatFailsHaltsTheDeploymentAndTheOthersNeverHearOfIt() throws Exception {
        Api.createClass("wv-bad");
        String p1 = Api.registerDevice("wv-bad-1", "wv-bad");
        String p2 = Api.registerDevice("wv-bad-2", "wv-bad");
        String p3 = Api.registerDevice("wv-bad-3", "wv-bad");
        byte[] model = DemoModels.classifier(903);
        long v = Api.upload("wv-bad-model", model);
        ModelRef ref = new ModelRef("wv-bad-model", v, Hashing.sha256Hex(model));
        try (FakeDevice d1 = online("wv-bad-1", p1); FakeDevice d2 = online("wv-bad-2", p2);
             FakeDevice d3 = online("wv-bad-3", p3)) {
            String id = json().body(Map.of("model", "wv-bad-model", "version", v, "classId", "wv-bad", "policy",
                            Map.of("soakSeconds", 0, "batches", Map.of("size", 1))))
                    .post("/api/v1/deployments").then().statusCode(202).extract().jsonPath().getString("id");
            await().atMost(WAIT).until(() -> gotDeploy(d1, "wv-bad-1", id));
            event(d1, "wv-bad-1", DeviceEvent.Type.ROLLED_BACK, id, ref);
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/deployments/" + id).then()
                    .body("status", equalTo("ABORTED")).body("halt.rule", equalTo("abortConfig"))
                    .body("halt.detail", containsString("1 of 1 executed target(s) failed"))
                    .body("halt.devices.cancelled", contains("wv-bad-2", "wv-bad-3"))
                    .body("summary.cancelled", equalTo(2)));
            Thread.sleep(1500);
            assertTrue(!gotDeploy(d2, "wv-bad-2", id) && !gotDeploy(d3, "wv-bad-3", id), "no other device got it");
        }
    }

    @Test
    void aTargetThatNeverAnswersTimesOutAndTheAbortRuleCountsIt() throws Exception {
        Api.createClass("wv-mute");
        String p1 = Api.registerDevice("wv-mute-1", "wv-mute");
        Api.registerDevice("wv-mute-2", "wv-mute");
        long v = Api.upload("wv-mute-model", DemoModels.classifier(904));
        try (FakeDevice d1 = online("wv-mute-1", p1)) {
            String id = json().body(Map.of("model", "wv-mute-model", "version", v, "classId", "wv-mute", "policy",
                            Map.of("targetTimeoutSeconds", 2, "abort", Map.of("failureTypes", List.of("TIMED_OUT")))))
                    .post("/api/v1/deployments").then().statusCode(202).extract().jsonPath().getString("id");
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/deployments/" + id).then()
                    .body("status", equalTo("ABORTED"))
                    .body("targets.find { it.deviceId == 'wv-mute-1' }.state", equalTo("TIMED_OUT"))
                    .body("halt.rule", equalTo("abortConfig")));
            assertEquals(1, api().get("/api/v1/deployments/" + id).jsonPath().getInt("summary.timedOut"));
        }
    }

    @Test
    void devicesOfflineAtDispatchAndDevicesThatJoinLaterGetTheModelWhenTheyConnect() throws Exception {
        Api.createClass("wv-join");
        String p1 = Api.registerDevice("wv-join-1", "wv-join");
        String p2 = Api.registerDevice("wv-join-2", "wv-join");
        byte[] model = DemoModels.classifier(905);
        long v = Api.upload("wv-join-model", model);
        ModelRef ref = new ModelRef("wv-join-model", v, Hashing.sha256Hex(model));
        try (FakeDevice d1 = online("wv-join-1", p1)) {
            String id = json().body(Map.of("model", "wv-join-model", "version", v, "classId", "wv-join", "policy",
                            Map.of("soakSeconds", 0, "gates", Map.of("minWindows", 0))))
                    .post("/api/v1/deployments").then().statusCode(202)
                    .body("targets.find { it.deviceId == 'wv-join-1' }.wave", equalTo(1))
                    .extract().jsonPath().getString("id");
            await().atMost(WAIT).until(() -> gotDeploy(d1, "wv-join-1", id));
            event(d1, "wv-join-1", DeviceEvent.Type.COMMITTED, id, ref);
            // wave 2 is the offline device: its command waits for it
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/deployments/" + id).then()
                    .body("waves.current", equalTo(2)));
            try (FakeDevice d2 = online("wv-join-2", p2)) {
                await().atMost(WAIT).until(() -> gotDeploy(d2, "wv-join-2", id));
                event(d2, "wv-join-2", DeviceEvent.Type.COMMITTED, id, ref);
            }
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/deployments/" + id).then()
                    .body("status", equalTo("COMPLETED")));

            // a device registered after the deployment finished joins it when it connects
            String p3 = Api.registerDevice("wv-join-3", "wv-join");
            try (FakeDevice d3 = online("wv-join-3", p3)) {
                await().atMost(WAIT).until(() -> gotDeploy(d3, "wv-join-3", id));
                api().get("/api/v1/deployments/" + id).then()
                        .body("targets.find { it.deviceId == 'wv-join-3' }.wave", equalTo(2))
                        .body("status", equalTo("COMPLETED"));
            }
        }
    }

    /**
     * The status path's race with a deployment creating its targets (once seen as a UQ_DEPLOYMENT_TARGET violation,
     * the STATUS left unacknowledged): the look-up of deployments a device may join reads under READ COMMITTED, so
     * it can miss the targets and then see the deployment committed with them in between. Joining a deployment that
     * already targets the device changes nothing and fails nothing.
     */
    @Test
    void aDeviceJoiningADeploymentThatAlreadyTargetsItIsANoOp() {
        Api.createClass("wv-race");
        Api.registerDevice("wv-race-1", "wv-race");
        long v = Api.upload("wv-race-model", DemoModels.classifier(917));
        String id = json().body(Map.of("model", "wv-race-model", "version", v, "classId", "wv-race", "policy", Map.of()))
                .post("/api/v1/deployments").then().statusCode(202).extract().jsonPath().getString("id");
        driver.fire(id, new WaveMachine.Event.DeviceJoined("wv-race-1"));
        api().get("/api/v1/deployments/" + id + "/targets").then().body("deviceId", contains("wv-race-1"));
    }
}
