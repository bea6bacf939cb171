package io.edgefleet.server.drift;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.Hashing;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.Topics;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.FakeDevice;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.security.PublicKey;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Reference profiles over REST, and the profile and class power model signed into the published manifest. */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class ReferenceProfileFlowTest {
    private static final JsonCodec CODEC = new JsonCodec();
    private static final Duration WAIT = Duration.ofSeconds(15);

    private static void uploadDataset(String name, String input, int samples) throws Exception {
        Random r = new Random(7);
        float[] x = new float[samples * DemoModels.INPUTS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put(input, NpyArray.ofFloats(x, samples, DemoModels.INPUTS));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npz.write(out, arrays);
        api().contentType("application/octet-stream").body(out.toByteArray()).post("/api/v1/datasets/" + name)
                .then().statusCode(201);
    }

    @Test
    void buildGetAndBadRequests() throws Exception {
        long version = Api.upload("rp-model", DemoModels.classifier(601));
        String path = "/api/v1/models/rp-model/versions/" + version + "/reference-profile";
        api().get(path).then().statusCode(404).body("error", equalTo("NOT_FOUND"))
                .body("message", containsString("has no reference profile"));

        uploadDataset("rp-valid", "input", 120);
        json().body(Map.of("dataset", "rp-valid")).post(path).then().statusCode(200)
                .body("source", equalTo("validation"))
                .body("samples", equalTo(120))
                .body("dataset", equalTo("rp-valid"))
                .body("features", equalTo(4))
                .body("profile.features[0].name", equalTo("input.mean"))
                .body("profile.outputClasses.kind", equalTo("class"))
                .body("profile.confidence.kind", equalTo("confidence"));
        ReferenceProfile stored = CODEC.mapper().readValue(api().get(path).then().statusCode(200).extract()
                .jsonPath().prettify(), ReferenceProfileView.class).profile();
        stored.validate();
        assertEquals(120, stored.samples());

        json().body(Map.of("dataset", "rp-valid", "source", "calibration")).post(path).then().statusCode(200)
                .body("source", equalTo("calibration"));

        json().body(Map.of("dataset", "no-such-dataset")).post(path).then().statusCode(400)
                .body("error", equalTo("UNKNOWN_DATASET"));
        json().body(Map.of()).post(path).then().statusCode(400).body("error", equalTo("VALIDATION_FAILED"))
                .body("message", containsString("dataset"));
        json().body(Map.of("dataset", "rp-valid", "source", "guess")).post(path).then().statusCode(400)
                .body("message", containsString("source"));
        json().body(Map.of("dataset", "rp-valid")).post("/api/v1/models/rp-model/versions/99/reference-profile")
                .then().statusCode(404).body("error", equalTo("NOT_FOUND"));
        uploadDataset("rp-wrong-input", "pixels", 10);
        json().body(Map.of("dataset", "rp-wrong-input")).post(path).then().statusCode(400)
                .body("error", equalTo("INVALID_DATASET"))
                .body("message", containsString("does not fit"));
        // the earlier profile survived the refused requests
        api().get(path).then().statusCode(200).body("source", equalTo("calibration"));
    }

    @Test
    void manifestCarriesTheSignedProfileAndTheClassPowerModel() throws Exception {
        Api.createClass("rp-gw");
        String password = Api.registerDevice("rp-1", "rp-gw");
        byte[] model = DemoModels.classifier(602);
        String sha = Hashing.sha256Hex(model);
        long version = Api.upload("rp-deployed", model);
        uploadDataset("rp-valid-2", "input", 80);
        json().body(Map.of("dataset", "rp-valid-2")).post("/api/v1/models/rp-deployed/versions/" + version
                + "/reference-profile").then().statusCode(200);

        try (FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), "rp-1", password)) {
            dev.subscribe(Topics.cmd("rp-1"), "edgefleet/v1/classes/rp-gw/artifacts/+/manifest");
            dev.publish(Topics.status("rp-1"), CODEC.encode(DeviceStatus.of("rp-1", DeviceStatus.State.ONLINE, null, null,
                    "agent-test/1")), true);
            await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/rp-1").then().body("online", equalTo(true)));
            json().body(Map.of("model", "rp-deployed", "version", version, "classId", "rp-gw"))
                    .post("/api/v1/deployments").then().statusCode(202);
            FakeDevice.Received m = dev.await(r -> r.topic().equals(Topics.manifest("rp-gw", sha)), WAIT);
            ArtifactManifest manifest = CODEC.decode(m.payload(), ArtifactManifest.class);
            List<String> keys = api().get("/api/v1/server-keys").jsonPath().getList("keys.publicKey");
            List<PublicKey> pinned = keys.stream().map(ManifestSigner::decodePublic).toList();
            new ManifestSigner.Verifier(pinned).verify(manifest);
            assertNotNull(manifest.referenceProfile(), "the stored profile travels with the artifact");
            assertEquals(80, manifest.referenceProfile().samples());
            assertEquals("validation", manifest.referenceProfile().source());
            assertEquals(2.0, manifest.power().idleWatts());
            assertEquals(6.5, manifest.power().activeWatts());
        }
    }
}
