package io.edgefleet.agent.serving;

import static io.edgefleet.agent.serving.ServingFixtures.direct;
import static io.edgefleet.agent.serving.ServingFixtures.load;
import static io.edgefleet.agent.serving.ServingFixtures.ref;
import static io.edgefleet.agent.serving.ServingFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.testing.TinyOnnx;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP adapter on an ephemeral loopback port, called with the JDK's HttpClient (and a raw socket). */
class InferenceHttpServerTest {
    static final int MAX_BODY = 4096;
    static final float[] X = {0.5f, -1.25f, 2f, 3.5f};
    static final String GOOD = "{\"id\":\"r1\",\"inputs\":[{\"name\":\"X\",\"shape\":[1,4],\"datatype\":\"FP32\","
            + "\"data\":[[0.5,-1.25,2,3.5]]}]}";

    @TempDir
    Path dir;

    final ObjectMapper json = new ObjectMapper();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final ServedModels models = new ServedModels();
    final ServedModel slot = models.add(new ServedModel());
    final ServingFixtures.Counting counts = new ServingFixtures.Counting();
    final InferenceService service = new InferenceService(models, counts, 1.0);
    InferenceHttpServer server;
    Path linear;

    @BeforeEach
    void start() throws Exception {
        linear = write(dir, "linear.onnx", TinyOnnx.linear());
        slot.swap(load(linear), ref("linear", 3), null);
        server = InferenceHttpServer.start(service, new InferenceHttpServer.Settings("127.0.0.1", 0, MAX_BODY, 2),
                "edgefleet-agent", "test");
    }

    @AfterEach
    void stop() {
        server.close();
        slot.swap(null, null, null);
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String contentType, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Status and the protocol's error JSON with a reason containing {@code reason}. */
    void assertError(HttpResponse<String> r, int status, String reason) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
        String error = json.readTree(r.body()).path("error").asText();
        assertTrue(error.contains(reason), "'" + error + "' should contain '" + reason + "'");
    }

    @Test
    void inferenceOverHttpEqualsOnnxRuntimeCalledDirectly() throws Exception {
        HttpResponse<String> r = post("/v2/models/linear/infer", "application/json", GOOD);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = json.readTree(r.body());
        assertEquals("linear", body.path("model_name").asText());
        assertEquals("3", body.path("model_version").asText());
        assertEquals("r1", body.path("id").asText());
        JsonNode y = body.path("outputs").get(0);
        assertEquals("Y", y.path("name").asText());
        assertEquals("FP32", y.path("datatype").asText());
        assertEquals("[1,3]", y.path("shape").toString());
        float[] got = new float[3];
        for (int i = 0; i < 3; i++) {
            got[i] = y.path("data").get(i).floatValue();
        }
        assertArrayEquals(direct(linear, "X", X, new long[] {1, 4}, "Y"), got, "shortest float text round-trips exactly");
        assertEquals(1, counts.successes.get(), "the API's inference reached the telemetry listener");

        // The versioned form and a charset parameter on the content type.
        assertEquals(200, post("/v2/models/linear/versions/3/infer", "application/json; charset=utf-8", GOOD).statusCode());
    }

    @Test
    void healthMetadataAndReadiness() throws Exception {
        assertEquals("{\"live\":true}", get("/v2/health/live").body());
        assertEquals(200, get("/v2/health/ready").statusCode());
        HttpResponse<String> m = get("/v2/models/linear");
        assertEquals(200, m.statusCode());
        assertEquals("{\"name\":\"linear\",\"versions\":[\"3\"],\"platform\":\"onnxruntime_onnx\","
                + "\"inputs\":[{\"name\":\"X\",\"datatype\":\"FP32\",\"shape\":[-1,4]}],"
                + "\"outputs\":[{\"name\":\"Y\",\"datatype\":\"FP32\",\"shape\":[-1,3]}]}", m.body());
        assertEquals(200, get("/v2/models/linear/versions/3").statusCode());
        assertEquals("{\"name\":\"linear\",\"ready\":true}", get("/v2/models/linear/ready").body());
        assertEquals("edgefleet-agent", json.readTree(get("/v2").body()).path("name").asText());

        slot.unavailable(ref("linear", 4), "linear:4 failed to load at start", null);
        assertError(get("/v2/health/ready"), 503, "linear:4 failed to load at start");
        assertEquals(503, get("/v2/models/linear/ready").statusCode());
        assertError(get("/v2/models/linear"), 503, "not ready: linear:4 failed to load at start");
        assertError(post("/v2/models/linear/infer", "application/json", GOOD), 503, "failed to load at start");
        assertEquals(200, get("/v2/health/live").statusCode(), "still alive, only not ready");
    }

    @Test
    void everyBadRequestGetsItsStatusAndReasonAndTheServerKeepsServing() throws Exception {
        assertError(post("/v2/models/linear/infer", "application/json", "{\"inputs\": [{]"), 400, "malformed JSON");
        assertError(post("/v2/models/linear/infer", "application/json",
                GOOD.replace("\"X\"", "\"Z\"")), 400, "unexpected input 'Z'; the model's inputs are [X]");
        assertError(post("/v2/models/linear/infer", "application/json",
                GOOD.replace("[1,4]", "[1,5]")), 400, "dimension 1 does not fit");
        assertError(post("/v2/models/linear/infer", "application/json",
                GOOD.replace("[1,4]", "[2,4]")), 400, "has 4 values but shape [2, 4] needs 8");
        assertError(post("/v2/models/linear/infer", "application/json",
                GOOD.replace("FP32", "FP64")), 400, "datatype FP64 but the model expects FP32");
        assertError(post("/v2/models/linear/infer", "application/json",
                GOOD.replace("FP32", "FP16")), 400, "datatype 'FP16', which this API does not accept");
        assertError(post("/v2/models/resnet/infer", "application/json", GOOD), 404, "model 'resnet' is not served");
        assertError(post("/v2/models/linear/versions/9/infer", "application/json", GOOD), 404, "active version is 3");
        assertError(get("/v2/models/resnet"), 404, "model 'resnet' is not served");
        assertError(get("/v2/models/resnet/ready"), 404, "model 'resnet' is not served");
        assertError(get("/v2/nothing/here"), 404, "no endpoint GET /v2/nothing/here");
        assertError(get("/v2/models/linear/explain"), 404, "no endpoint");
        HttpResponse<String> m = get("/v2/models/linear/infer");
        assertError(m, 405, "infer takes POST, not GET");
        assertEquals("POST", m.headers().firstValue("Allow").orElse(""));
        assertError(post("/v2/health/live", "application/json", "{}"), 405, "takes GET, not POST");
        assertError(post("/v2/models/linear/infer", null, GOOD), 415, "no Content-Type given");
        assertError(post("/v2/models/linear/infer", "text/plain", GOOD), 415, "not text/plain");
        assertError(post("/v2/models/linear/infer", "application/x-www-form-urlencoded", GOOD), 415, "must be sent as application/json");

        String big = "{\"inputs\": [], \"pad\": \"" + "x".repeat(MAX_BODY) + "\"}";
        assertError(post("/v2/models/linear/infer", "application/json", big), 413, "accepts up to " + MAX_BODY);
        // Chunked (no Content-Length): stops reading once past the bound.
        HttpRequest chunked = HttpRequest.newBuilder(uri("/v2/models/linear/infer")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8))))
                .build();
        assertError(http.send(chunked, HttpResponse.BodyHandlers.ofString()), 413, "longer than " + MAX_BODY);

        assertEquals(0, counts.errors.get(), "no client mistake counted as an inference error");
        assertEquals(200, post("/v2/models/linear/infer", "application/json", GOOD).statusCode(), "still serving");
    }

    @Test
    void aHugeDeclaredBodyIsRefusedWithoutReadingIt() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1073741824\r\n\r\n{\"inputs\":").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // The answer comes although almost none of the gigabyte was sent: the server did not wait for it.
            InputStream in = s.getInputStream();
            String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 413", head);
        }
        assertEquals(200, post("/v2/models/linear/infer", "application/json", GOOD).statusCode());
    }

    @Test
    void httpRequestsDuringRepeatedSwapsAllSucceed() throws Exception {
        Path other = write(dir, "other.onnx", TinyOnnx.linear(0.5f));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ok = new AtomicLong();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Future<?>> clients = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            clients.add(pool.submit(() -> {
                while (!stop.get()) {
                    try {
                        HttpResponse<String> r = post("/v2/models/linear/infer", "application/json", GOOD);
                        if (r.statusCode() == 200) {
                            ok.incrementAndGet();
                        } else {
                            failures.add(r.statusCode() + " " + r.body());
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            }));
        }
        while (ok.get() < 5 && failures.isEmpty()) {
            Thread.sleep(5); // the clients' first requests warm up the JIT and the connections
        }
        long before = ok.get();
        for (int i = 0; i < 30; i++) {
            slot.swap(load(i % 2 == 0 ? other : linear), ref("linear", i + 4), null);
            Thread.sleep(20);
        }
        long during = ok.get() - before;
        stop.set(true);
        for (Future<?> f : clients) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertTrue(failures.isEmpty(), failures.size() + " failed, first: " + failures.peek());
        assertTrue(during > 30, "requests ran during the swaps: " + during);
        assertEquals(ok.get(), counts.successes.get(), "each answered request is one inference in telemetry");
        assertEquals(0, counts.errors.get());
        assertEquals(List.of("33"), service.modelMetadata("linear").versions(), "the last swap's version is served");
    }
}
