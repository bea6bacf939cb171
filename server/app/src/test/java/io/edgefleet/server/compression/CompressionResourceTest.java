package io.edgefleet.server.compression;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.pipeline.Pass;
import io.edgefleet.engine.pipeline.PassContext;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.model.BlobStore;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithTestResource(TestDataDir.class)
class CompressionResourceTest {
    private static final int SAMPLES = 48;

    @Inject
    BlobStore blobs;

    @Inject
    CompressionService service;

    @Inject
    Session session;

    // ---------------------------------------------------------------- fixtures

    private static float[] inputs(int samples, int width, long seed) {
        Random r = new Random(seed);
        float[] x = new float[samples * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    private static byte[] npz(Map<String, NpyArray> arrays) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            Npz.write(out, arrays);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Labels = what the base model predicts, so the base scores 100 % and any change in predictions is a loss. */
    private static long[] basePredictions(byte[] model, float[] x, int samples) {
        try (OrtRunner runner = OrtRunner.open(OnnxModel.read(model))) {
            float[] probs = runner.runFloats(x, samples, DemoModels.INPUTS);
            long[] labels = new long[samples];
            for (int s = 0; s < samples; s++) {
                int best = 0;
                for (int c = 1; c < DemoModels.CLASSES; c++) {
                    if (probs[s * DemoModels.CLASSES + c] > probs[s * DemoModels.CLASSES + best]) {
                        best = c;
                    }
                }
                labels[s] = best;
            }
            return labels;
        }
    }

    private static void uploadDataset(String name, byte[] bytes) {
        api().contentType("application/octet-stream").body(bytes).post("/api/v1/datasets/" + name)
                .then().statusCode(201);
    }

    private static String submit(String model, long version, Map<String, Object> body) {
        return json().body(body).post("/api/v1/models/" + model + "/versions/" + version + "/compressions")
                .then().statusCode(202)
                .body("status", equalTo("QUEUED"))
                .body("base.model", equalTo(model))
                .body("base.version", equalTo((int) version))
                .extract().jsonPath().getString("id");
    }

    private static JsonPath awaitStatus(String id, String... statuses) {
        List<String> wanted = List.of(statuses);
        JsonPath[] last = new JsonPath[1];
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = api().get("/api/v1/compression-jobs/" + id).then().statusCode(200).extract().jsonPath();
            return wanted.contains(last[0].getString("status"));
        });
        return last[0];
    }

    // ---------------------------------------------------------------- datasets

    @Test
    void datasetUploadIsValidatedAndDescribed() throws Exception {
        float[] x = inputs(SAMPLES, DemoModels.INPUTS, 1);
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("input", NpyArray.ofFloats(x, SAMPLES, DemoModels.INPUTS));
        arrays.put("labels", NpyArray.ofLongs(new long[SAMPLES], SAMPLES));
        byte[] bytes = npz(arrays);
        api().contentType("application/octet-stream").body(bytes).post("/api/v1/datasets/ds-described")
                .then().statusCode(201)
                .body("name", equalTo("ds-described"))
                .body("sha256", equalTo(io.edgefleet.protocol.Hashing.sha256Hex(bytes)))
                .body("size", equalTo(bytes.length))
                .body("sampleCount", equalTo(SAMPLES))
                .body("hasLabels", equalTo(true))
                .body("hasCohort", equalTo(false))
                .body("arrays.name", contains("input", "labels"))
                .body("arrays[0].dtype", equalTo("float32"))
                .body("arrays[0].shape", contains(SAMPLES, DemoModels.INPUTS));
        // the same bytes again are accepted (200); other bytes under the same name are a conflict
        api().contentType("application/octet-stream").body(bytes).post("/api/v1/datasets/ds-described")
                .then().statusCode(200).body("name", equalTo("ds-described"));
        arrays.put("cohort", NpyArray.ofLongs(new long[SAMPLES], SAMPLES));
        api().contentType("application/octet-stream").body(npz(arrays)).post("/api/v1/datasets/ds-described")
                .then().statusCode(409).body("error", equalTo("ALREADY_EXISTS"));
        api().get("/api/v1/datasets").then().statusCode(200).body("name", hasItem("ds-described"));
        api().get("/api/v1/datasets/ds-described").then().statusCode(200).body("sampleCount", equalTo(SAMPLES));
        api().get("/api/v1/datasets/ds-nope").then().statusCode(404).body("error", equalTo("NOT_FOUND"));
    }

    @Test
    void badDatasetsAreRefusedAndNothingIsStored() throws Exception {
        long blobsBefore = blobs.count();
        api().contentType("application/octet-stream").body("this is not a zip".getBytes())
                .post("/api/v1/datasets/ds-bad")
                .then().statusCode(400).body("error", equalTo("INVALID_DATASET"))
                .body("message", containsString("ds-bad.npz"));
        // a valid archive whose arrays disagree on the sample count: the engine's dataset rule, same 400
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        arrays.put("input", NpyArray.ofFloats(inputs(4, 2, 2), 4, 2));
        arrays.put("labels", NpyArray.ofLongs(new long[3], 3));
        api().contentType("application/octet-stream").body(npz(arrays)).post("/api/v1/datasets/ds-bad")
                .then().statusCode(400).body("error", equalTo("INVALID_DATASET"))
                .body("message", containsString("labels"));
        api().contentType("application/json").body("{}").post("/api/v1/datasets/ds-bad")
                .then().statusCode(415).body("error", equalTo("UNSUPPORTED_MEDIA_TYPE"));
        // over edgefleet.datasets.max-upload-bytes (256 KiB in tests)
        api().contentType("application/octet-stream").body(new byte[300_000]).post("/api/v1/datasets/ds-bad")
                .then().statusCode(413).body("error", equalTo("PAYLOAD_TOO_LARGE"));
        api().get("/api/v1/datasets/ds-bad").then().statusCode(404);
        assertEquals(blobsBefore, blobs.count(), "a refused dataset leaves no blob");
        assertEquals(0, blobs.tempCount(), "nor a temp file");
    }

    // ---------------------------------------------------------------- jobs

    @Test
    void dynamicInt8VariantBecomesANewVersionWithLineage() throws Exception {
        byte[] model = DemoModels.classifier(301);
        long base = Api.upload("cj-ok", model);
        float[] x = inputs(SAMPLES, DemoModels.INPUTS, 3);
        uploadDataset("cj-ok-valid", npz(Map.of(
                "input", NpyArray.ofFloats(x, SAMPLES, DemoModels.INPUTS),
                "labels", NpyArray.ofLongs(basePredictions(model, x, SAMPLES), SAMPLES))));

        // generous budget: this test is about the plumbing, not about how good int8 is
        String id = submit("cj-ok", base, Map.of("recipe", "dynamic-int8", "validationDataset", "cj-ok-valid",
                "budget", Map.of("overallPoints", 50, "cohortPoints", 50), "params", Map.of("perChannel", "true")));
        JsonPath job = awaitStatus(id, "SUCCEEDED", "REJECTED", "FAILED", "CANCELLED");
        assertEquals("SUCCEEDED", job.getString("status"), () -> job.prettify());
        assertEquals(1.0, job.getDouble("progress"));
        assertEquals("dynamic-int8", job.getString("recipe"));
        assertEquals(50.0, job.getDouble("budget.overallPoints"));
        assertEquals(true, job.getBoolean("result.gate.passed"));
        assertEquals("dynamic-int8", job.getString("result.report.recipe.name"));
        assertEquals("validation", job.getString("result.report.accuracy.evaluatedOn"));
        // Baselines are kept with the job result for later decisions: the base model and the crude reference,
        // both scored on the same validation data as the variant.
        assertEquals(List.of("uncompressed", "aggressive-reference"), job.getList("result.report.baselines.role"));
        assertEquals(job.getString("result.report.inputs.model.sha256"),
                job.getString("result.report.baselines[0].sha256"));
        assertEquals(100.0, job.getDouble("result.report.baselines[0].scores[0].percent"),
                "labels are the base model's predictions");
        assertEquals(SAMPLES, job.getInt("result.report.baselines[1].scores[0].samples"));
        assertEquals(SAMPLES, job.getInt("result.report.baselines[1].quality.overall.samples"));
        assertTrue(job.getString("result.report.baselines[1].description").contains("per weight tensor"),
                () -> job.prettify());
        long variant = job.getLong("result.version");
        assertEquals(base + 1, variant);

        String sha = api().get("/api/v1/models/cj-ok/versions/" + variant).then().statusCode(200)
                .body("parentVersion", equalTo((int) base))
                .body("recipe.name", equalTo("dynamic-int8"))
                .body("recipe.params.perChannel", equalTo("true"))
                .body("recipe.compressionJob", equalTo(id))
                .extract().jsonPath().getString("sha256");
        assertEquals(job.getString("result.report.variant.sha256"), sha, "the registered bytes are the reported ones");
        // the variant's drift reference was built on the job's validation data, for the manifest to carry
        api().get("/api/v1/models/cj-ok/versions/" + variant + "/reference-profile").then().statusCode(200)
                .body("source", equalTo("validation"))
                .body("dataset", equalTo("cj-ok-valid"))
                .body("samples", equalTo(SAMPLES))
                .body("sha256", equalTo(sha));
        byte[] artifact = api().get("/api/v1/models/cj-ok/versions/" + variant + "/artifact").then().statusCode(200)
                .extract().asByteArray();
        OnnxModel loaded = OnnxModel.read(artifact);
        assertTrue(loaded.opHistogram().keySet().stream().anyMatch(op -> op.contains("Integer")
                || op.contains("Quant")), "the variant is quantized: " + loaded.opHistogram());
        try (OrtRunner runner = OrtRunner.open(loaded)) {
            assertEquals(SAMPLES * DemoModels.CLASSES, runner.runFloats(x, SAMPLES, DemoModels.INPUTS).length);
        }

        api().get("/api/v1/compression-jobs/" + id + "/report.md").then().statusCode(200)
                .contentType(containsString("text/markdown"))
                .body(containsString("dynamic-int8"))
                .body(containsString("## Baselines"))
                .body(containsString("| aggressive-reference | dynamic int8 with one scale per weight tensor"))
                .body(containsString("passed"));
        api().get("/api/v1/compression-jobs/" + id + "/report.html").then().statusCode(200)
                .contentType(containsString("text/html"))
                .body(containsString("<h2>Baselines</h2>"))
                .body(containsString("<td>aggressive-reference</td>"));
        api().get("/api/v1/compression-jobs?model=cj-ok").then().statusCode(200).body("id", hasItem(id));
        // finished jobs cannot be cancelled
        api().delete("/api/v1/compression-jobs/" + id).then().statusCode(409).body("error", equalTo("CONFLICT"));
    }

    @Test
    void staticInt8WithCalibrationUsesTheDeviceClassBudget() {
        byte[] model = DemoModels.classifier(302);
        long base = Api.upload("cj-static", model);
        Api.createClass("cj-class");
        uploadDataset("cj-static-calib", npz(Map.of("input",
                NpyArray.ofFloats(inputs(SAMPLES, DemoModels.INPUTS, 4), SAMPLES, DemoModels.INPUTS))));
        // without calibration data the recipe cannot start
        json().body(Map.of("recipe", "static-int8-minmax"))
                .post("/api/v1/models/cj-static/versions/" + base + "/compressions")
                .then().statusCode(400).body("message", containsString("calibration"));

        String id = submit("cj-static", base, Map.of("recipe", "static-int8-minmax",
                "calibrationDataset", "cj-static-calib", "deviceClassId", "cj-class"));
        JsonPath job = awaitStatus(id, "SUCCEEDED", "REJECTED", "FAILED", "CANCELLED");
        // the class's accuracyBudget (1.5 / 3.0 points) is the gate's budget
        assertEquals(1.5, job.getDouble("budget.overallPoints"));
        assertEquals(3.0, job.getDouble("budget.cohortPoints"));
        assertEquals(1.5, job.getDouble("result.gate.numbers.'budget.overallPoints'"));
        assertEquals("calibration", job.getString("result.report.accuracy.evaluatedOn"));
        // without validation data the baselines carry size and MACs only, and say why
        assertEquals(List.of("none", "none"), job.getList("result.report.baselines.evaluatedOn"));
        assertTrue(job.getString("result.report.baselines[1].note").contains("no validation data"),
                () -> job.prettify());
        assertTrue(job.getLong("result.report.baselines[1].stats.bytes") > 0);
        // unlabelled data: agreement with the float model; either verdict is legitimate, and must match the registry
        if (job.getString("status").equals("SUCCEEDED")) {
            api().get("/api/v1/models/cj-static/versions/" + job.getLong("result.version")).then().statusCode(200)
                    .body("parentVersion", equalTo((int) base)).body("recipe.name", equalTo("static-int8-minmax"));
        } else {
            assertEquals("REJECTED", job.getString("status"), () -> job.prettify());
            api().get("/api/v1/models/cj-static/versions").then().body("version", contains((int) base));
        }
    }

    /** A lossy "recipe" with a known outcome: it swaps in a differently trained classifier of the same shape. */
    private static void registerSwapRecipe() {
        Pass swap = new Pass() {
            @Override
            public String name() {
                return "swap-weights";
            }

            @Override
            public OnnxModel apply(OnnxModel model, PassContext context) {
                return OnnxModel.read(DemoModels.classifier(999));
            }
        };
        RecipeRegistry.register(Recipe.compression("test-swap", "test only: replaces the weights", false, List.of(),
                swap));
    }

    @Test
    void gateRejectedVariantIsNotRegisteredButItsReportIsKept() {
        registerSwapRecipe();
        byte[] model = DemoModels.classifier(303);
        long base = Api.upload("cj-reject", model);
        float[] x = inputs(SAMPLES, DemoModels.INPUTS, 5);
        long[] cohorts = new long[SAMPLES];
        for (int i = 0; i < SAMPLES; i++) {
            cohorts[i] = i % 2;
        }
        uploadDataset("cj-reject-valid", npz(Map.of(
                "input", NpyArray.ofFloats(x, SAMPLES, DemoModels.INPUTS),
                "labels", NpyArray.ofLongs(basePredictions(model, x, SAMPLES), SAMPLES),
                "cohort", NpyArray.ofLongs(cohorts, SAMPLES))));

        String id = submit("cj-reject", base, Map.of("recipe", "test-swap", "validationDataset", "cj-reject-valid",
                "budget", Map.of("overallPoints", 0, "cohortPoints", 0)));
        JsonPath job = awaitStatus(id, "SUCCEEDED", "REJECTED", "FAILED", "CANCELLED");
        assertEquals("REJECTED", job.getString("status"), () -> job.prettify());
        assertEquals(false, job.getBoolean("result.gate.passed"));
        assertNull(job.get("result.version"));
        assertEquals(100.0, job.getDouble("result.gate.numbers.'overall.basePercent'"));
        List<String> reasons = job.getList("result.gate.reasons");
        assertTrue(reasons.stream().anyMatch(r -> r.contains("over the budget")), reasons::toString);
        api().get("/api/v1/models/cj-reject/versions").then().statusCode(200).body("version", contains((int) base));
        api().get("/api/v1/compression-jobs/" + id + "/report.md").then().statusCode(200)
                .body(containsString("over the budget"));
    }

    @Test
    void unknownReferencesAreClientErrors() {
        long base = Api.upload("cj-refs", DemoModels.classifier(304));
        String path = "/api/v1/models/cj-refs/versions/" + base + "/compressions";
        json().body(Map.of("recipe", "no-such-recipe")).post(path)
                .then().statusCode(400).body("error", equalTo("UNKNOWN_RECIPE"))
                .body("message", containsString("dynamic-int8"));
        json().body(Map.of("recipe", "dynamic-int8", "validationDataset", "no-such-data")).post(path)
                .then().statusCode(400).body("error", equalTo("UNKNOWN_DATASET"))
                .body("message", containsString("no-such-data"));
        json().body(Map.of("recipe", "dynamic-int8", "deviceClassId", "no-such-class")).post(path)
                .then().statusCode(400).body("error", equalTo("UNKNOWN_DEVICE_CLASS"));
        json().body(Map.of("recipe", "dynamic-int8", "budget", Map.of("overallPoints", -1, "cohortPoints", 1)))
                .post(path).then().statusCode(400).body("error", equalTo("VALIDATION_FAILED"))
                .body("message", containsString("budget.overallPoints"));
        // a misspelt parameter is refused up front, not ignored while the job runs on the default
        json().body(Map.of("recipe", "prune-magnitude", "params", Map.of("sparsty", "0.6"))).post(path)
                .then().statusCode(400).body("error", equalTo("VALIDATION_FAILED"))
                .body("message", containsString("has no parameter sparsty"))
                .body("message", containsString("sparsity"));
        json().body(Map.of("recipe", "dynamic-int8")).post("/api/v1/models/cj-refs/versions/99/compressions")
                .then().statusCode(404).body("message", containsString("cj-refs:99"));
        json().body(Map.of("recipe", "dynamic-int8")).post("/api/v1/models/cj-none/versions/1/compressions")
                .then().statusCode(404);
        // the missing model is the first thing wrong, whatever else the body gets wrong
        json().body(Map.of("recipe", "no-such-recipe")).post("/api/v1/models/cj-refs/versions/99/compressions")
                .then().statusCode(404).body("message", containsString("cj-refs:99"));
        json().body(Map.of("recipe", "prune-magnitude", "params", Map.of("sparsity", "abc")))
                .post("/api/v1/models/cj-refs/versions/99/compressions").then().statusCode(404);
        api().get("/api/v1/compression-jobs/no-such-job").then().statusCode(404).body("error", equalTo("NOT_FOUND"));
        api().get("/api/v1/recipes").then().statusCode(200).body("name", hasItem("static-int8-minmax"))
                .body("find { it.name == 'static-int8-minmax' }.needsCalibration", equalTo(true));
    }

    private long jobsStoredFor(String model) {
        return QuarkusTransaction.requiringNew().call(() -> session.createSelectionQuery(
                "select count(j) from CompressionJobEntity j where j.modelName = :m", Long.class)
                .setParameter("m", model).getSingleResult());
    }

    @Test
    void badParameterValuesAreRefusedAtSubmissionWithTheReasonAndStoreNothing() throws Exception {
        long base = Api.upload("cj-params", DemoModels.classifier(308));
        String path = "/api/v1/models/cj-params/versions/" + base + "/compressions";
        long blobsBefore = blobs.count();
        json().body(Map.of("recipe", "prune-magnitude", "params", Map.of("sparsity", "abc"))).post(path)
                .then().statusCode(400).body("error", equalTo("VALIDATION_FAILED"))
                .body("message", equalTo("recipe 'prune-magnitude': parameter 'sparsity' must be a number in (0, 1), "
                        + "got 'abc'"));
        // every bad value at once, before the datasets are even looked up
        json().body(Map.of("recipe", "prune-iterative", "calibrationDataset", "cj-params-no-such-data",
                        "params", Map.of("checkFraction", "2", "scope", "everywhere", "step", "0.1"))).post(path)
                .then().statusCode(400).body("error", equalTo("VALIDATION_FAILED"))
                .body("message", containsString("parameter 'checkFraction' must be a number in (0, 1), got '2'"))
                .body("message", containsString("parameter 'scope' must be one of per_layer, global, got "
                        + "'everywhere'"))
                .body("message", not(containsString("'step'")));
        assertEquals(0, jobsStoredFor("cj-params"), "a refused job is not stored");
        api().get("/api/v1/compression-jobs?model=cj-params").then().statusCode(200).body("size()", equalTo(0));
        assertEquals(blobsBefore, blobs.count(), "nor anything in the blob store");

        // what GET /recipes says is allowed is what submission checks
        api().get("/api/v1/recipes").then().statusCode(200)
                .body("find { it.name == 'prune-iterative' }.parameters.checkFraction", equalTo("0.25"))
                .body("find { it.name == 'prune-iterative' }.parameterSpecs.find { it.name == 'checkFraction' }.type",
                        equalTo("number"))
                .body("find { it.name == 'prune-iterative' }.parameterSpecs.find { it.name == 'checkFraction' }"
                        + ".allowed", equalTo("(0, 1)"))
                .body("find { it.name == 'prune-iterative' }.parameterSpecs.find { it.name == 'checkFraction' }"
                        + ".defaultValue", equalTo("0.25"))
                .body("find { it.name == 'int4-weight-only' }.parameterSpecs.find { it.name == 'blockSize' }.allowed",
                        equalTo("32, 64, 128"));

        // an allowed value in another spelling is accepted and reaches the job as given
        String id = submit("cj-params", base, Map.of("recipe", "prune-magnitude",
                "params", Map.of("sparsity", "0.6", "scope", "GLOBAL")));
        JsonPath job = awaitStatus(id, "SUCCEEDED", "REJECTED", "FAILED", "CANCELLED");
        // no data: the verdict is not the point here, only that the job ran with the values
        assertTrue(List.of("SUCCEEDED", "REJECTED").contains(job.getString("status")), () -> job.prettify());
        assertEquals("GLOBAL", job.getString("params.scope"));
        assertEquals("GLOBAL", job.getString("result.report.recipe.parameters.scope"));
        assertEquals(1, jobsStoredFor("cj-params"));
    }

    @Test
    void datasetThatDoesNotFitTheModelFailsTheJobWithTheEnginesReason() {
        long base = Api.upload("cj-misfit", DemoModels.classifier(305));
        // 32 features where the model takes 64
        uploadDataset("cj-misfit-data", npz(Map.of("input", NpyArray.ofFloats(inputs(8, 32, 6), 8, 32))));
        String id = submit("cj-misfit", base, Map.of("recipe", "dynamic-int8", "validationDataset", "cj-misfit-data"));
        JsonPath job = awaitStatus(id, "SUCCEEDED", "REJECTED", "FAILED", "CANCELLED");
        assertEquals("FAILED", job.getString("status"), () -> job.prettify());
        String error = job.getString("error");
        assertTrue(error.contains("cj-misfit-data.npz") && error.contains("model input 'input'")
                && error.contains("64"), error);
        assertNull(job.get("result"));
        api().get("/api/v1/models/cj-misfit/versions").then().body("version", contains((int) base));
    }

    @Test
    void queuedJobsAreCancelledAtOnceAndRunningOnesBetweenSteps() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Pass blocking = new Pass() {
            @Override
            public String name() {
                return "wait-for-test";
            }

            @Override
            public OnnxModel apply(OnnxModel model, PassContext context) {
                entered.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return model;
            }
        };
        RecipeRegistry.register(Recipe.compression("test-blocking", "test only: waits", false, List.of(), blocking));
        long base = Api.upload("cj-cancel", DemoModels.classifier(306));
        String running = submit("cj-cancel", base, Map.of("recipe", "test-blocking"));
        assertTrue(entered.await(30, TimeUnit.SECONDS), "the first job started");
        api().get("/api/v1/compression-jobs/" + running).then().body("status", equalTo("RUNNING"))
                .body("startedAt", notNullValue());
        // one worker (the default): the second job waits
        String queued = submit("cj-cancel", base, Map.of("recipe", "test-blocking"));
        api().get("/api/v1/compression-jobs/" + queued).then().body("status", equalTo("QUEUED"));

        api().delete("/api/v1/compression-jobs/" + queued).then().statusCode(200).body("status", equalTo("CANCELLED"));
        api().delete("/api/v1/compression-jobs/" + running).then().statusCode(202).body("status", equalTo("RUNNING"))
                .body("message", equalTo("cancellation requested"));
        release.countDown();
        JsonPath done = awaitStatus(running, "CANCELLED", "SUCCEEDED", "FAILED", "REJECTED");
        assertEquals("CANCELLED", done.getString("status"));
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(service::idle);
        api().get("/api/v1/compression-jobs/" + queued).then().body("status", equalTo("CANCELLED"))
                .body("startedAt", nullValue());
        api().get("/api/v1/models/cj-cancel/versions").then().body("version", contains((int) base));
        api().get("/api/v1/compression-jobs/" + running + "/report.md").then().statusCode(404);
    }

    @Test
    void jobsLeftRunningByAnEarlierProcessAreMarkedFailedAtStart() {
        long base = Api.upload("cj-restart", DemoModels.classifier(307));
        String mine = persistRunning("restart-" + System.nanoTime(), "cj-restart", base, null);
        String other = persistRunning("other-" + System.nanoTime(), "cj-restart", base, "another-replica");
        assertTrue(service.markInterrupted() >= 1);
        api().get("/api/v1/compression-jobs/" + mine).then().statusCode(200)
                .body("status", equalTo("FAILED"))
                .body("error", containsString("server restarted"))
                .body("finishedAt", notNullValue());
        // A replica on the same database restarting fails only the jobs it owned.
        api().get("/api/v1/compression-jobs/" + other).then().statusCode(200).body("status", equalTo("RUNNING"));
    }

    @Test
    void aJobIsClaimedOnceAndOnlyWhileQueued() {
        long base = Api.upload("cj-claim", DemoModels.classifier(308));
        String id = "claim-" + System.nanoTime();
        QuarkusTransaction.requiringNew().run(() -> {
            CompressionJobEntity e = job(id, "cj-claim", base, "someone");
            e.status = JobStatus.QUEUED;
            session.persist(e);
        });
        CompressionJobEntity claimed = QuarkusTransaction.requiringNew().call(() -> service.claim(id));
        assertTrue(claimed != null && claimed.status == JobStatus.RUNNING);
        assertTrue(QuarkusTransaction.requiringNew().call(() -> service.claim(id)) == null, "already running");
        String owner = QuarkusTransaction.requiringNew().call(() -> session.find(CompressionJobEntity.class, id).owner);
        assertTrue(owner != null && !owner.equals("someone"), "the claiming replica owns it: " + owner);
    }

    private String persistRunning(String id, String model, long base, String owner) {
        QuarkusTransaction.requiringNew().run(() -> session.persist(job(id, model, base, owner)));
        return id;
    }

    private static CompressionJobEntity job(String id, String model, long base, String owner) {
        CompressionJobEntity e = new CompressionJobEntity();
        e.id = id;
        e.modelName = model;
        e.baseVersion = base;
        e.recipe = "dynamic-int8";
        e.params = "{}";
        e.budgetOverall = 0.5;
        e.budgetCohort = 1.0;
        e.status = JobStatus.RUNNING;
        e.progress = 0.4;
        e.message = "evaluating";
        e.createdAt = System.currentTimeMillis();
        e.startedAt = e.createdAt;
        e.owner = owner;
        return e;
    }
}
