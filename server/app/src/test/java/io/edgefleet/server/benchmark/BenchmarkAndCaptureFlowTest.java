package io.edgefleet.server.benchmark;

import static io.edgefleet.server.support.Api.api;
import static io.edgefleet.server.support.Api.json;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.protocol.BenchmarkReport;
import io.edgefleet.protocol.CaptureUpload;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.LatencyStats;
import io.edgefleet.protocol.ManifestSigner;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Topics;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.server.capture.CaptureService;
import io.edgefleet.server.compression.DatasetService;
import io.edgefleet.server.demo.DemoModels;
import io.edgefleet.server.support.Api;
import io.edgefleet.server.support.FakeDevice;
import io.edgefleet.server.support.TestDataDir;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The server's side of device benchmarks and opt-in capture, with fake devices on the embedded broker: a signed
 * BENCHMARK command per device, reports stored, the class's cost model fitted against the server's own measurement
 * with the expected error, and the planner naming the fitted model; captures dropped without the opt-in or over the
 * bound, stored as a capture/... dataset that the .npz reader reads back with it.
 */
@QuarkusTest
@WithTestResource(TestDataDir.class)
class BenchmarkAndCaptureFlowTest {
    @Inject
    org.hibernate.Session session;
    @Inject
    BenchmarkService benchmarks;
    private static final JsonCodec CODEC = new JsonCodec();
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    CaptureService captures;

    @Inject
    DatasetService datasets;

    private static ManifestSigner.Verifier verifier() {
        List<String> keys = api().get("/api/v1/server-keys").jsonPath().getList("keys.publicKey");
        List<PublicKey> pinned = keys.stream().map(ManifestSigner::decodePublic).toList();
        return new ManifestSigner.Verifier(pinned);
    }

    private static FakeDevice online(String id, String classId) throws Exception {
        String password = Api.registerDevice(id, classId);
        FakeDevice dev = FakeDevice.connect(Api.brokerUrl(), id, password);
        dev.subscribe(Topics.cmd(id));
        dev.publish(Topics.status(id), CODEC.encode(DeviceStatus.of(id, DeviceStatus.State.ONLINE, null, null, "t/1")),
                true);
        await().atMost(WAIT).untilAsserted(() -> api().get("/api/v1/devices/" + id).then().body("online", equalTo(true)));
        return dev;
    }

    private static Command awaitCommand(FakeDevice dev, String id, Command.Type type) throws InterruptedException {
        FakeDevice.Received r = dev.await(m -> m.topic().equals(Topics.cmd(id))
                && CODEC.decode(m.payload(), Command.class).type() == type, WAIT);
        Command c = CODEC.decode(r.payload(), Command.class);
        verifier().verify(c, id, System.currentTimeMillis());
        return c;
    }

    private static BenchmarkReport report(String device, Command c, double p95, double energy) {
        return BenchmarkReport.completed(device, c.deploymentId(), c.artifact().model(), 500, 1, 1.0,
                new LatencyStats(p95 * 0.8, p95, p95 * 1.1, p95 * 1.2, p95 * 0.85), energy, "rapl");
    }

    @Test
    void devicesReportTheClassFitsItsCostModelAndThePlannerSaysSo() throws Exception {
        Map<String, Object> cls = new HashMap<>(Api.deviceClass("bm-gw"));
        cls.put("latencyScale", 2.0);
        json().body(cls).post("/api/v1/device-classes").then().statusCode(201);
        api().get("/api/v1/device-classes/bm-gw/cost-model").then().statusCode(200)
                .body("source", equalTo("declared-profile")).body("p95Scale", equalTo(2.0f))
                .body("p95Basis", equalTo("p95")).body("meanBasis", equalTo("mean"));
        long version = Api.upload("bm-model", DemoModels.classifier(611));
        json().body(Map.of("model", "bm-model", "version", version)).post("/api/v1/device-classes/bm-gw/benchmarks")
                .then().statusCode(400).body("error", equalTo("NO_TARGETS"));

        try (FakeDevice a = online("bm-1", "bm-gw"); FakeDevice b = online("bm-2", "bm-gw")) {
            json().body(Map.of("model", "bm-model", "version", version, "devices", 2, "seconds", 0))
                    .post("/api/v1/device-classes/bm-gw/benchmarks").then().statusCode(400)
                    .body("error", equalTo("VALIDATION_FAILED"));
            json().body(Map.of("model", "bm-model", "version", version + 5))
                    .post("/api/v1/device-classes/bm-gw/benchmarks").then().statusCode(400)
                    .body("error", equalTo("UNKNOWN_MODEL"));
            String job = json().body(Map.of("model", "bm-model", "version", version, "devices", 2, "seconds", 3))
                    .post("/api/v1/device-classes/bm-gw/benchmarks").then().statusCode(202)
                    .body("status", equalTo("RUNNING")).body("devices.size()", equalTo(2))
                    .extract().jsonPath().getString("id");
            Command ca = awaitCommand(a, "bm-1", Command.Type.BENCHMARK);
            Command cb = awaitCommand(b, "bm-2", Command.Type.BENCHMARK);
            assertEquals(job, ca.deploymentId());
            assertEquals(3, ca.benchmarkSeconds());
            assertEquals(version, ca.artifact().model().version());

            // a report for the job from a device that was not asked is ignored
            a.publish(Topics.benchmark("bm-1"), CODEC.encode(report("bm-1", ca, 4.0, 2.0)), false);
            b.publish(Topics.benchmark("bm-2"), CODEC.encode(report("bm-2", cb, 6.0, 3.0)), false);
            JsonPath done = awaitJob(job);
            assertEquals("COMPLETED", done.getString("status"), done::prettify);
            assertEquals(2, done.getList("results").size());
            double server = done.getDouble("serverP50Ms");
            assertTrue(server > 0 && done.getDouble("serverP95Ms") >= server, done::prettify);

            // one artifact: a pure scale through the origin, least squares over p95 4 and 6 -> 5 / the server's median
            JsonPath cm = api().get("/api/v1/device-classes/bm-gw/cost-model").then().statusCode(200).extract().jsonPath();
            assertEquals("fitted", cm.getString("source"));
            assertEquals("p50", cm.getString("p95Basis"));
            assertEquals("p50", cm.getString("meanBasis"));
            assertEquals(2, cm.getInt("reports"));
            assertEquals(5.0 / server, cm.getDouble("p95Scale"), 1e-6 * (5.0 / server));
            assertEquals(0.0, cm.getDouble("p95OffsetMs"));
            // |5-4|/4 and |5-6|/6 -> 20.83 %
            assertEquals(100.0 * (0.25 + 1.0 / 6) / 2, cm.getDouble("latencyErrorPercent"), 1e-3);
            assertEquals(2.5 / server, cm.getDouble("energyMjPerServerMs"), 1e-6 * (2.5 / server));
            assertTrue(cm.getString("summary").startsWith("fitted from 2 device reports over 1 artifact, error 20.8%"),
                    cm.getString("summary"));

            // a fit stored before the median basis (null basis: lines in units of the server's p95) is refitted from
            // the stored reports before the API or the planner reads it, never scaled onto medians
            io.quarkus.narayana.jta.QuarkusTransaction.requiringNew().run(() -> {
                ClassCostModelEntity old = session.find(ClassCostModelEntity.class, "bm-gw");
                old.serverBasis = null;
                old.p95Scale = 999;
            });
            api().get("/api/v1/device-classes/bm-gw/cost-model").then().statusCode(200)
                    .body("p95Basis", equalTo("p50")).body("reports", equalTo(2));
            assertEquals(5.0 / server, benchmarks.fitted("bm-gw").orElseThrow().p95().scale(), 1e-6 * (5.0 / server));

            // the class's jobs, newest first, and the console's class page with the fit and its error
            api().get("/api/v1/device-classes/bm-gw/benchmarks").then().statusCode(200).body("size()", equalTo(1))
                    .body("[0].id", equalTo(job)).body("[0].status", equalTo("COMPLETED"))
                    .body("[0].results.size()", equalTo(2));
            api().get("/api/v1/device-classes/bm-gw/benchmarks?limit=0").then().statusCode(400)
                    .body("error", equalTo("VALIDATION_FAILED"));
            api().get("/api/v1/device-classes/nope/benchmarks").then().statusCode(404);
            String page = api().get("/console/classes/bm-gw").then().statusCode(200).extract().asString();
            assertTrue(page.contains("<b id=\"cost-source\">fitted</b>") && page.contains("<b id=\"cost-reports\">2</b>")
                    && page.contains("<b id=\"cost-latency-error\">20.8") && page.contains("× server p50 +"), page);
            assertTrue(page.contains("<tr data-id=\"" + job + "\">") && page.contains("bm-2: 6.0 ms"), page);

            // the planner now uses the fitted model for this class and says so
            Map<String, Object> valid = Map.of("input", NpyArray.ofFloats(new float[20 * DemoModels.INPUTS], 20,
                    DemoModels.INPUTS));
            ByteArrayOutputStream npz = new ByteArrayOutputStream();
            Npz.write(npz, (Map) valid);
            api().contentType("application/octet-stream").body(npz.toByteArray()).post("/api/v1/datasets/bm-valid")
                    .then().statusCode(201);
            String plan = json().body(Map.of("deviceClassId", "bm-gw", "validationDataset", "bm-valid",
                            "budget", Map.of("maxCandidates", 1, "latencyRuns", 3)))
                    .post("/api/v1/models/bm-model/versions/" + version + "/plans").then().statusCode(202)
                    .extract().jsonPath().getString("id");
            JsonPath[] p = new JsonPath[1];
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                p[0] = api().get("/api/v1/plans/" + plan).then().statusCode(200).extract().jsonPath();
                return List.of("CHOSEN", "NO_CHOICE", "FAILED").contains(p[0].getString("status"));
            });
            assertEquals("fitted:bm-gw", p[0].getString("plan.sources.costModel"), p[0]::prettify);
            assertTrue(p[0].getString("plan.sources.latency").contains("fitted from 2 device reports over 1 artifact, "
                    + "error 20.8%"), p[0]::prettify);
        }
    }

    @Test
    void aPacedBenchmarkIsSignedWithItsIntervalAndTheFitUsesTheJobsPacedLikeTheNewest() throws Exception {
        Api.createClass("bm-paced");
        long version = Api.upload("bm-paced-model", DemoModels.classifier(612));
        String url = "/api/v1/device-classes/bm-paced/benchmarks";
        try (FakeDevice a = online("bmp-1", "bm-paced")) {
            for (Map<String, Object> bad : List.<Map<String, Object>>of(
                    Map.of("model", "bm-paced-model", "version", version, "intervalMs", -1),
                    Map.of("model", "bm-paced-model", "version", version, "intervalMs", 60_001),
                    // 1,000 runs 1 s apart cannot finish within the 600 s a count-only benchmark has
                    Map.of("model", "bm-paced-model", "version", version, "runs", 1000, "intervalMs", 1000))) {
                json().body(bad).post(url).then().statusCode(400).body("error", equalTo("VALIDATION_FAILED"))
                        .body("message", org.hamcrest.Matchers.containsString("intervalMs"));
            }

            // back to back first (no interval: the command carries none, as before pacing existed)
            String b2b = json().body(Map.of("model", "bm-paced-model", "version", version, "seconds", 2)).post(url)
                    .then().statusCode(202).extract().jsonPath().getString("id");
            Command c1 = awaitCommand(a, "bmp-1", Command.Type.BENCHMARK);
            assertEquals(null, (Object) c1.benchmarkIntervalMs());
            a.publish(Topics.benchmark("bmp-1"), CODEC.encode(report("bmp-1", c1, 4.0, 2.0)), false);
            assertEquals("COMPLETED", awaitJob("bm-paced", b2b).getString("status"));
            JsonPath cm1 = api().get("/api/v1/device-classes/bm-paced/cost-model").then().statusCode(200).extract()
                    .jsonPath();
            assertEquals("fitted", cm1.getString("source"));
            assertEquals(null, (Object) cm1.get("intervalMs"));

            // then paced 20 ms apart: signed with its interval, and the fit now holds the paced report only
            String paced = json().body(Map.of("model", "bm-paced-model", "version", version, "seconds", 2,
                    "intervalMs", 20)).post(url).then().statusCode(202).body("intervalMs", equalTo(20)).extract()
                    .jsonPath().getString("id");
            FakeDevice.Received r2 = a.await(m -> m.topic().equals(Topics.cmd("bmp-1"))
                    && paced.equals(CODEC.decode(m.payload(), Command.class).deploymentId()), WAIT);
            Command c2 = CODEC.decode(r2.payload(), Command.class);
            verifier().verify(c2, "bmp-1", System.currentTimeMillis());
            assertEquals(Integer.valueOf(20), c2.benchmarkIntervalMs());
            a.publish(Topics.benchmark("bmp-1"), CODEC.encode(report("bmp-1", c2, 10.0, 2.0)), false);
            JsonPath done = awaitJob("bm-paced", paced);
            assertEquals("COMPLETED", done.getString("status"), done::prettify);
            double server = done.getDouble("serverP50Ms");
            JsonPath cm2 = api().get("/api/v1/device-classes/bm-paced/cost-model").then().statusCode(200).extract()
                    .jsonPath();
            assertEquals(1, cm2.getInt("reports"), cm2::prettify);
            assertEquals(20, cm2.getInt("intervalMs"));
            assertEquals(10.0 / server, cm2.getDouble("p95Scale"), 1e-6 * (10.0 / server));
        }
    }

    private static JsonPath awaitJob(String job) {
        return awaitJob("bm-gw", job);
    }

    private static JsonPath awaitJob(String classId, String job) {
        JsonPath[] last = new JsonPath[1];
        await().atMost(WAIT).until(() -> {
            last[0] = api().get("/api/v1/device-classes/" + classId + "/benchmarks/" + job).then().statusCode(200).extract()
                    .jsonPath();
            return !"RUNNING".equals(last[0].getString("status"));
        });
        return last[0];
    }

    private static String upload(int samples, long seed) throws Exception {
        float[] x = new float[samples * 4];
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npz.write(out, Map.of("input", NpyArray.ofFloats(x, samples, 4)));
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    @Test
    void capturesAreStoredOnlyUnderTheOptInAndWithinTheBound() throws Exception {
        Api.createClass("cap-gw");
        ModelRef model = new ModelRef("cap-model", 1, "c".repeat(64));
        try (FakeDevice d = online("cap-1", "cap-gw")) {
            api().get("/api/v1/devices/cap-1/capture").then().statusCode(200).body("enabled", equalTo(false));
            long refusedBefore = captures.refusedUploads();
            d.publish(Topics.capture("cap-1"), CODEC.encode(CaptureUpload.of("cap-1", model, 5, upload(5, 1))), false);
            await().atMost(WAIT).until(() -> captures.refusedUploads() == refusedBefore + 1);
            assertEquals(List.of(), captures.datasetNames("cap-gw", "cap-model"), "nothing stored without the opt-in");

            json().body(Map.of("enabled", true, "rate", 1.5)).put("/api/v1/devices/cap-1/capture").then()
                    .statusCode(400).body("error", equalTo("VALIDATION_FAILED"));
            json().body(Map.of("enabled", true, "rate", 0.5)).put("/api/v1/devices/nobody/capture").then().statusCode(404);
            json().body(Map.of("enabled", true, "rate", 0.25, "maxSamples", 8, "maxBytes", 65536))
                    .put("/api/v1/devices/cap-1/capture").then().statusCode(200).body("enabled", equalTo(true));
            Command config = awaitCommand(d, "cap-1", Command.Type.CONFIG);
            assertEquals(Map.of("captureRate", "0.25", "captureMaxSamples", "8", "captureMaxBytes", "65536"),
                    config.config());

            d.publish(Topics.capture("cap-1"), CODEC.encode(CaptureUpload.of("cap-1", model, 5, upload(5, 2))), false);
            await().atMost(WAIT).until(() -> captures.datasetNames("cap-gw", "cap-model").size() == 1);
            String name = captures.datasetNames("cap-gw", "cap-model").get(0);
            assertTrue(DatasetService.CAPTURE_NAME.matcher(name).matches(), name);
            assertTrue(name.startsWith("capture/cap-gw/cap-model/"), name);
            api().get("/api/v1/datasets/" + name).then().statusCode(200).body("sampleCount", equalTo(5));
            // the stored dataset is the upload, read back through the engine's .npz dataset reader
            var ds = datasets.load(name, io.quarkus.narayana.jta.QuarkusTransaction.requiringNew()
                    .call(() -> datasets.find(name).sha256));
            assertEquals(5, ds.size());

            // 5 + 5 samples would pass the bound of 8: dropped, nothing more stored
            long refused = captures.refusedUploads();
            d.publish(Topics.capture("cap-1"), CODEC.encode(CaptureUpload.of("cap-1", model, 5, upload(5, 3))), false);
            await().atMost(WAIT).until(() -> captures.refusedUploads() == refused + 1);
            assertEquals(1, captures.datasetNames("cap-gw", "cap-model").size());
            api().get("/api/v1/devices/cap-1/capture").then().statusCode(200).body("samplesReceived", equalTo(5))
                    .body("datasets[0]", equalTo(name));
            // the console's device page shows the opt-in, what arrived under it and the dataset
            String page = api().get("/console/devices/cap-1").then().statusCode(200).extract().asString();
            assertTrue(page.contains("capture is <b id=\"capture-state\" class=\"warn\">on</b> · rate 0.25")
                    && page.contains("received 5 samples") && page.contains("<span class=\"chip\">" + name + "</span>"),
                    page);

            // opted out: the next upload is dropped again
            json().body(Map.of("enabled", false)).put("/api/v1/devices/cap-1/capture").then().statusCode(200);
            awaitCommand(d, "cap-1", Command.Type.CONFIG);
            long refused2 = captures.refusedUploads();
            d.publish(Topics.capture("cap-1"), CODEC.encode(CaptureUpload.of("cap-1", model, 1, upload(1, 4))), false);
            await().atMost(WAIT).until(() -> captures.refusedUploads() == refused2 + 1);
            assertEquals(1, captures.datasetNames("cap-gw", "cap-model").size());
        }
    }
}
