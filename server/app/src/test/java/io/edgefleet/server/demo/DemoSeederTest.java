package io.edgefleet.server.demo;

import static io.edgefleet.server.support.Api.api;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.Hashing;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class DemoSeederTest {

    @Inject
    DemoSeeder seeder;

    @Test
    void seedsTheQuickstartClassAndModelOnce() {
        seeder.seed();
        seeder.seed();
        api().get("/api/v1/device-classes/demo-gateway").then().statusCode(200)
                .body("arch", equalTo("x86_64"))
                .body("cores", equalTo(2))
                .body("slo.p95LatencyMs", equalTo(50.0f))
                .body("slo.maxModelBytes", equalTo(50_000_000));
        api().get("/api/v1/device-classes/demo-board").then().statusCode(200)
                .body("precisions", contains("int8"))
                .body("slo.p95LatencyMs", equalTo(20.0f))
                .body("slo.maxModelBytes", equalTo((int) DemoSeeder.BOARD_MAX_MODEL_BYTES));
        var versions = api().get("/api/v1/models/demo-classifier/versions").then().statusCode(200)
                .body("version", org.hamcrest.Matchers.hasItems(1, 2))
                .body("[0].sha256", equalTo(Hashing.sha256Hex(DemoModels.classifier())))
                .body("[0].inputs[0].name", equalTo("input"))
                .body("[0].outputs[0].name", equalTo("probabilities"))
                .body("[1].parentVersion", equalTo(1))
                .body("[1].inputs[0].name", equalTo("input"))
                .extract().jsonPath();
        // the float model is over the board's budget, its int8 variant within it: each class has a version to run
        assertTrue(versions.getLong("[0].size") > DemoSeeder.BOARD_MAX_MODEL_BYTES, versions.prettify());
        assertTrue(versions.getLong("[1].size") <= DemoSeeder.BOARD_MAX_MODEL_BYTES, versions.prettify());
        for (String c : new String[] {"demo-gateway", "demo-board"}) {
            api().get("/api/v1/alert-rules/demo-drift-" + c).then().statusCode(200)
                    .body("metric", equalTo("DRIFT_SCORE")).body("classId", equalTo(c)).body("threshold", equalTo((float) DemoSeeder.DRIFT_THRESHOLD))
                    .body("lookbackSeconds", equalTo((int) DemoSeeder.DRIFT_LOOKBACK_SECONDS))
                    .body("forSeconds", equalTo((int) DemoSeeder.DRIFT_FOR_SECONDS));
            api().get("/api/v1/alert-rules/demo-p95-" + c).then().statusCode(200)
                    .body("metric", equalTo("P95_LATENCY_MS")).body("classId", equalTo(c));
        }
        // both seeded versions score drift against the validation data, not a self reference of their first inferences
        for (int v = 1; v <= DemoSeeder.BOARD_VERSION; v++) {
            api().get("/api/v1/models/demo-classifier/versions/" + v + "/reference-profile").then().statusCode(200)
                    .body("source", equalTo("validation")).body("dataset", equalTo(DemoSeeder.VALIDATION));
        }
        // the board's drift alert opens a closed loop (of the demo model); the gateway's only alerts
        api().get("/api/v1/alert-rules/demo-drift-demo-board").then().body("action", equalTo("RECOMPRESS"))
                .body("modelName", equalTo(DemoSeeder.MODEL));
        api().get("/api/v1/alert-rules/demo-drift-demo-gateway").then().body("action", equalTo("NONE"));
    }

    @Test
    void theBoardsVariantIsPlannedOverTheDemoDatasetsSoALoopCanReplanIt() throws Exception {
        seeder.seed();
        for (String ds : new String[] {DemoSeeder.VALIDATION, DemoSeeder.CALIBRATION}) {
            api().get("/api/v1/datasets/" + ds).then().statusCode(200);
        }
        long deadline = System.currentTimeMillis() + 120_000;
        var variants = api().get("/api/v1/device-classes/demo-board/variants").then().statusCode(200).extract()
                .jsonPath();
        while (variants.getList("$").isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(500);
            variants = api().get("/api/v1/device-classes/demo-board/variants").then().statusCode(200).extract()
                    .jsonPath();
        }
        assertTrue(!variants.getList("$").isEmpty(), "the board has a planned variant: "
                + api().get("/api/v1/plans?model=" + DemoSeeder.MODEL).asString());
        String planId = variants.getString("[0].planId");
        var plan = api().get("/api/v1/plans/" + planId).then().statusCode(200)
                .body("status", equalTo("CHOSEN"))
                .body("deviceClassId", equalTo("demo-board"))
                .body("validationDataset", equalTo(DemoSeeder.VALIDATION))
                .body("calibrationDataset", equalTo(DemoSeeder.CALIBRATION)).extract().jsonPath();
        long version = variants.getLong("[0].version");
        api().get("/api/v1/models/demo-classifier/versions/" + version).then().statusCode(200)
                .body("parentVersion", equalTo(1))
                .body("size", org.hamcrest.Matchers.lessThanOrEqualTo((int) DemoSeeder.BOARD_MAX_MODEL_BYTES));
        // a second seed neither plans again nor replaces the variant
        seeder.seed();
        assertTrue(api().get("/api/v1/plans?model=" + DemoSeeder.MODEL).jsonPath().getList("$").size() == 1,
                plan.prettify());
    }

    @Test
    void theBoardVariantRunsItsFirstLayerInInt8() {
        byte[] variant = DemoSeeder.boardVariant();
        var model = io.edgefleet.engine.onnx.OnnxModel.read(variant);
        assertTrue(model.proto().getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("MatMulInteger")
                || n.getOpType().equals("DynamicQuantizeMatMul")), "a quantized node");
    }
}
