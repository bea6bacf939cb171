package io.edgefleet.server.planner;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class PlannerResourceTest {
    private static final int SAMPLES = 40;

    private static byte[] npz(Map<String, NpyArray> arrays) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            Npz.write(out, arrays);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static float[] inputs(int n, int width, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    private static void uploadDataset(String name, byte[] bytes) {
        api().contentType("application/octet-stream").body(bytes).post("/api/v1/datasets/" + name)
                .then().statusCode(201);
    }

    private static Map<String, Object> deviceClass(String id, long maxModelBytes) {
        Map<String, Object> c = new HashMap<>(Api.deviceClass(id));
        c.put("slo", Map.of("p95LatencyMs", 1000.0, "maxModelBytes", maxModelBytes));
        c.put("accuracyBudget", Map.of("overallPoints", 30.0, "cohortPoints", 60.0));
        c.put("latencyScale", 2.0);
        return c;
    }

    private static String submit(String model, long version, Map<String, Object> body) {
        return json().body(body).post("/api/v1/models/" + model + "/versions/" + version + "/plans")
                .then().statusCode(202).body("status", equalTo("QUEUED"))
                .extract().jsonPath().getString("id");
    }

    private static JsonPath await(String id) {
        JsonPath[] last = new JsonPath[1];
        Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = api().get("/api/v1/plans/" + id).then().statusCode(200).extract().jsonPath();
            return List.of("CHOSEN", "NO_CHOICE", "FAILED", "CANCELLED").contains(last[0].getString("status"));
        });
        return last[0];
    }

    @Test
    void twoClassesGetTheirOwnVariantsRegisteredWithLineageAndBaselines() {
        byte[] model = DemoModels.classifier(501);
        long base = Api.upload("pl-ok", model);
        uploadDataset("pl-ok-valid", npz(Map.of("input", NpyArray.ofFloats(inputs(SAMPLES, DemoModels.INPUTS, 1),
                SAMPLES, DemoModels.INPUTS), "cohort", NpyArray.ofLongs(new long[SAMPLES], SAMPLES))));
        uploadDataset("pl-ok-calib", npz(Map.of("input", NpyArray.ofFloats(inputs(SAMPLES, DemoModels.INPUTS, 2),
                SAMPLES, DemoModels.INPUTS))));
        json().body(deviceClass("pl-roomy", 10_000_000)).post("/api/v1/device-classes").then().statusCode(201)
                .body("latencyScale", equalTo(2.0f));
        // smaller than the float model: the float model cannot be this class's variant
        json().body(deviceClass("pl-tight", model.length * 3L / 4)).post("/api/v1/device-classes").then()
                .statusCode(201);

        Map<String, Object> budget = Map.of("maxCandidates", 4, "latencyRuns", 3);
        String roomy = submit("pl-ok", base, Map.of("deviceClassId", "pl-roomy", "validationDataset", "pl-ok-valid",
                "calibrationDataset", "pl-ok-calib", "budget", budget));
        JsonPath r = await(roomy);
        assertEquals("CHOSEN", r.getString("status"), () -> r.prettify());
        assertEquals("identity", r.getString("choice"));
        assertTrue(r.getString("plan.stoppedBecause").startsWith("early stop"), () -> r.prettify());
        assertTrue(r.getString("plan.sources.latency").contains("declared latency scale 2"), () -> r.prettify());
        assertEquals(1.0, r.getDouble("progress"));

        String tight = submit("pl-ok", base, Map.of("deviceClassId", "pl-tight", "validationDataset", "pl-ok-valid",
                "calibrationDataset", "pl-ok-calib", "budget", budget));
        JsonPath t = await(tight);
        assertEquals("CHOSEN", t.getString("status"), () -> t.prettify());
        assertNotEquals("identity", t.getString("choice"));
        assertEquals("modelBytes", t.getString("plan.candidates[0].slos.find { it.verdict == 'MISSED' }.slo"),
                () -> t.prettify());
        long version = t.getLong("resultVersion");
        assertNotEquals(r.getLong("resultVersion"), version);

        // the chosen variant is a model version whose parent is the base; nothing was deployed
        String sha = api().get("/api/v1/models/pl-ok/versions/" + version).then().statusCode(200)
                .body("parentVersion", equalTo((int) base))
                .body("recipe.plan", equalTo(tight))
                .body("recipe.deviceClass", equalTo("pl-tight"))
                .extract().jsonPath().getString("sha256");
        // the variant's drift reference, built on the plan's validation data, for the manifest to carry
        api().get("/api/v1/models/pl-ok/versions/" + version + "/reference-profile").then().statusCode(200)
                .body("source", equalTo("validation")).body("dataset", equalTo("pl-ok-valid"))
                .body("samples", equalTo(SAMPLES)).body("sha256", equalTo(sha));
        byte[] artifact = api().get("/api/v1/models/pl-ok/versions/" + version + "/artifact").then().statusCode(200)
                .extract().asByteArray();
        assertTrue(artifact.length <= model.length * 3L / 4);
        try (OrtRunner runner = OrtRunner.open(OnnxModel.read(artifact))) {
            assertEquals(DemoModels.CLASSES, runner.runFloats(inputs(1, DemoModels.INPUTS, 9), 1,
                    DemoModels.INPUTS).length);
        }
        // other tests in this Quarkus app may have deployed their own models: none of this model's versions went out
        api().get("/api/v1/deployments?limit=1000").then().statusCode(200)
                .body("findAll { it.model == 'pl-ok' }.size()", equalTo(0));

        JsonPath v = api().get("/api/v1/device-classes/pl-tight/variants").then().statusCode(200).extract()
                .jsonPath();
        assertEquals(1, v.getList("").size());
        assertEquals("pl-ok", v.getString("[0].model"));
        assertEquals(version, v.getLong("[0].version"));
        assertEquals(sha, v.getString("[0].lineage.sha256"));
        assertEquals(base, v.getLong("[0].lineage.parentVersion"));
        assertEquals(t.getString("choice").replaceAll("\\[.*", ""), v.getString("[0].lineage.recipe"));
        assertNotNull(v.getString("[0].lineage.baseSha256"));
        assertNotNull(v.getString("[0].lineage.validationSha256"));
        assertNotNull(v.getString("[0].lineage.calibrationSha256"));
        assertNotNull(v.getString("[0].lineage.engineVersion"));
        assertNotNull(v.get("[0].lineage.metrics.accuracyPercent"));
        assertEquals(List.of("uncompressed", "aggressive-reference"), v.getList("[0].baselines.role"));
        assertEquals(v.getString("[0].lineage.baseSha256"), v.getString("[0].baselines[0].sha256"));
        assertEquals(base, v.getLong("[0].baselines[0].modelVersion"));

        api().get("/api/v1/plans/" + tight + "/page").then().statusCode(200)
                .contentType(containsString("text/html")).body(containsString("<svg"))
                .body(containsString("Choice: <code>" + t.getString("choice").replace("[", "[")));
        api().post("/api/v1/plans/" + tight + "/cancel").then().statusCode(409).body("error", equalTo("CONFLICT"));
    }

    @Test
    void noCandidateMeetsEverySloRegistersNothing() {
        long base = Api.upload("pl-none", DemoModels.classifier(502));
        uploadDataset("pl-none-valid", npz(Map.of("input", NpyArray.ofFloats(inputs(SAMPLES, DemoModels.INPUTS, 3),
                SAMPLES, DemoModels.INPUTS))));
        json().body(deviceClass("pl-none-class", 100)).post("/api/v1/device-classes").then().statusCode(201);
        String id = submit("pl-none", base, Map.of("deviceClassId", "pl-none-class", "validationDataset",
                "pl-none-valid", "budget", Map.of("maxCandidates", 2, "latencyRuns", 2)));
        JsonPath p = await(id);
        assertEquals("NO_CHOICE", p.getString("status"), () -> p.prettify());
        assertNull(p.get("resultVersion"));
        assertTrue(p.getList("plan.closest").size() >= 1);
        assertTrue(p.getString("plan.closest[0].misses[0]").startsWith("modelBytes"), () -> p.prettify());
        api().get("/api/v1/models/pl-none/versions").then().statusCode(200).body("size()", equalTo(1));
        api().get("/api/v1/device-classes/pl-none-class/variants").then().statusCode(200).body("size()", equalTo(0));
        api().get("/api/v1/plans/" + id + "/page").then().statusCode(200).body(containsString("No choice"));
    }

    @Test
    void aPlanCancelledWhileQueuedOrRunningEndsCancelledAndRegistersNothing() {
        long base = Api.upload("pl-cancel", DemoModels.classifier(504));
        uploadDataset("pl-cancel-valid", npz(Map.of("input", NpyArray.ofFloats(inputs(SAMPLES, DemoModels.INPUTS,
                6), SAMPLES, DemoModels.INPUTS))));
        uploadDataset("pl-cancel-calib", npz(Map.of("input", NpyArray.ofFloats(inputs(SAMPLES, DemoModels.INPUTS,
                7), SAMPLES, DemoModels.INPUTS))));
        json().body(deviceClass("pl-cancel-class", 10_000_000)).post("/api/v1/device-classes").then()
                .statusCode(201);
        // no early stop: the whole grid would run
        String id = submit("pl-cancel", base, Map.of("deviceClassId", "pl-cancel-class", "validationDataset",
                "pl-cancel-valid", "calibrationDataset", "pl-cancel-calib",
                "budget", Map.of("earlyStopMargin", -1, "latencyRuns", 2)));
        int status = api().post("/api/v1/plans/" + id + "/cancel").then().extract().statusCode();
        assertTrue(status == 200 || status == 202, "cancel answered " + status);
        JsonPath p = await(id);
        assertEquals("CANCELLED", p.getString("status"), () -> p.prettify());
        assertNull(p.get("resultVersion"));
        api().get("/api/v1/models/pl-cancel/versions").then().statusCode(200).body("size()", equalTo(1));
        api().get("/api/v1/device-classes/pl-cancel-class/variants").then().statusCode(200)
                .body("size()", equalTo(0));
    }

    /** A streaming model: audio x[N,T], a scalar int64 sample rate. */
    private static byte[] streaming() {
        return OnnxBuilder.model("vad").opset(17)
                .input("x", ElemType.FLOAT, "N", "T")
                .input("sr", ElemType.INT64)
                .output("prob", ElemType.FLOAT, "N", "T")
                .node("Cast").name("sr_f").in("sr").out("srf").attr("to", 1).add()
                .node("Relu").name("relu").in("x").out("rx").add()
                .node("Mul").name("scale").in("rx", "srf").out("prob").add()
                .build().toBytes();
    }

    @Test
    void badInputIsRefusedWithReasonsAndNothingIsQueued() {
        long base = Api.upload("pl-bad", DemoModels.classifier(503));
        uploadDataset("pl-bad-valid", npz(Map.of("input", NpyArray.ofFloats(inputs(8, DemoModels.INPUTS, 4), 8,
                DemoModels.INPUTS))));
        Api.createClass("pl-bad-class");
        String path = "/api/v1/models/pl-bad/versions/" + base + "/plans";
        json().body(Map.of("deviceClassId", "pl-bad-class", "validationDataset", "pl-bad-valid"))
                .post("/api/v1/models/pl-nope/versions/1/plans").then().statusCode(404)
                .body("error", equalTo("NOT_FOUND"));
        json().body(Map.of("deviceClassId", "pl-nope", "validationDataset", "pl-bad-valid")).post(path).then()
                .statusCode(400).body("error", equalTo("UNKNOWN_DEVICE_CLASS"));
        json().body(Map.of("deviceClassId", "pl-bad-class", "validationDataset", "pl-nope")).post(path).then()
                .statusCode(400).body("error", equalTo("UNKNOWN_DATASET"));
        json().body(Map.of("validationDataset", "pl-bad-valid")).post(path).then()
                .statusCode(400).body("error", equalTo("VALIDATION_FAILED"));
        json().body(Map.of("deviceClassId", "pl-bad-class")).post(path).then()
                .statusCode(400).body("error", equalTo("VALIDATION_FAILED"))
                .body("message", containsString("planning needs validation data"));
        json().body(Map.of("deviceClassId", "pl-bad-class", "validationDataset", "pl-bad-valid",
                "budget", Map.of("maxCandidates", 0))).post(path).then()
                .statusCode(400).body("error", equalTo("VALIDATION_FAILED"));
        json().body(Map.of("deviceClassId", "pl-bad-class", "validationDataset", "pl-bad-valid",
                "batchAxis", Map.of("nope", 1))).post(path).then()
                .statusCode(400).body("error", equalTo("INVALID_DATASET"))
                .body("message", containsString("not a model input"));

        // a streaming model whose data lacks the sample-rate scalar: asked for it by name, never a 500
        long vad = Api.upload("pl-vad", streaming());
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("x", NpyArray.ofFloats(inputs(4, 16, 5), 4, 16));
        uploadDataset("pl-vad-valid", npz(arrays));
        json().body(Map.of("deviceClassId", "pl-bad-class", "validationDataset", "pl-vad-valid"))
                .post("/api/v1/models/pl-vad/versions/" + vad + "/plans").then()
                .statusCode(400).body("error", equalTo("INVALID_DATASET"))
                .body("message", containsString("input 'sr' is a scalar"));
        json().body(Map.of("deviceClassId", "pl-bad-class"))
                .post("/api/v1/models/pl-vad/versions/" + vad + "/plans").then()
                .statusCode(400).body("error", equalTo("VALIDATION_FAILED"))
                .body("message", containsString("only real data fixes"));

        api().get("/api/v1/plans").then().statusCode(200).body("findAll { it.base.model == 'pl-bad' }.size()",
                equalTo(0));
        api().get("/api/v1/plans/nope").then().statusCode(404).body("error", equalTo("NOT_FOUND"));
        api().get("/api/v1/plans/nope/page").then().statusCode(404);
        api().get("/api/v1/device-classes/pl-nope/variants").then().statusCode(404);
    }
}
