package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.ServerClient;
import io.edgefleet.agent.testing.ServingAgent;
import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.TelemetryWindow;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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

/**
 * Issue 13 part 4: an error in one inference-API request never reaches another request's thread or a background
 * worker. A real agent (ONNX Runtime, MQTT, its HTTP API on two threads) serves good clients while hostile clients
 * send every kind of bad request at the same time, and its built-in inference loop and telemetry run throughout.
 * Every good request must be answered with ONNX Runtime's own answer, every hostile one with a 4xx (never a 5xx),
 * no thread of the JVM may end with an uncaught exception, and the background loop must keep counting inferences
 * without a single error in telemetry.
 */
class RequestIsolationTest {
    static final String DEV = "dev-isolation";
    static final String CLASS = ServingAgent.CLASS;
    static final String GOOD = ServingAgent.BODY;

    /** Hostile bodies for /v2/models/linear/infer, each with the status the protocol gives it. */
    static final List<Map.Entry<String, Integer>> HOSTILE = List.of(
            Map.entry("{\"inputs\":[", 400),
            Map.entry("not json at all", 400),
            Map.entry("{\"inputs\":[{\"name\":\"nope\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", 400),
            Map.entry("{\"inputs\":[{\"name\":\"X\",\"shape\":[1,5],\"datatype\":\"FP32\",\"data\":[1,2,3,4,5]}]}", 400),
            Map.entry("{\"inputs\":[{\"name\":\"X\",\"shape\":[1,4],\"datatype\":\"INT64\",\"data\":[1,2,3,4]}]}", 400),
            Map.entry("{\"inputs\":[{\"name\":\"X\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2]}]}", 400),
            Map.entry("{\"inputs\":[{\"name\":\"X\",\"shape\":[-1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", 400),
            Map.entry("{\"inputs\":[{\"name\":\"X\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[\"a\",{},[],null]}]}", 400),
            Map.entry("[".repeat(5000), 400),
            Map.entry("{\"inputs\":[{\"name\":\"X\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}],"
                    + "\"outputs\":[{\"name\":\"missing\"}]}", 400));

    @TempDir
    Path dir;

    ServingAgent fx;
    Artifacts server;
    ObjectMapper json;
    HttpClient http;
    ServerClient srv;
    Agent agent;
    final ConcurrentLinkedQueue<String> uncaught = new ConcurrentLinkedQueue<>();
    Thread.UncaughtExceptionHandler previous;

    @BeforeEach
    void setUp() throws Exception {
        fx = new ServingAgent(DEV, dir.resolve("agent"));
        server = fx.server;
        json = fx.json;
        http = fx.http;
        srv = fx.srv;
        previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(t.getName() + ": " + e));
    }

    @AfterEach
    void tearDown() {
        fx.close();
        Thread.setDefaultUncaughtExceptionHandler(previous);
    }

    URI uri(String path) {
        return fx.uri(path);
    }

    HttpResponse<String> post(String path, String body) throws Exception {
        return fx.post(path, body);
    }

    /** A raw request the JDK client would not send: a declared body that never comes, or bytes that are not text. */
    int raw(String head, byte[] body, boolean hangUp) throws Exception {
        try (Socket s = new Socket("127.0.0.1", agent.inferenceAddress().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            if (hangUp) {
                return 0; // gone mid-body: the server must let go of this request alone
            }
            InputStream in = s.getInputStream();
            String status = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            return Integer.parseInt(status.substring(9, 12));
        }
    }

    @Test
    void hostileRequestsNeverReachAGoodRequestOrTheBackgroundLoop() throws Exception {
        agent = fx.start(fx.config(20).servingThreads(2).servingMaxBodyBytes(64 * 1024).build());
        byte[] model = TinyOnnx.linear(0f);
        float[] expected = ServingAgent.direct(model);
        Artifacts.Artifact v1 = server.make(CLASS, "linear", 1, model);
        srv.publishArtifact(v1);
        fx.deploy(v1, "dep-1", new HealthPolicy(0, 0.05, 1, 1));
        ServerClient.await(() -> agent.inference().isReady("linear"), 15_000, "v1 activated");
        int windowsBefore = srv.telemetry(DEV).size();

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong good = new AtomicLong();
        AtomicLong hostile = new AtomicLong();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        Map<Integer, AtomicLong> hostileStatuses = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(5);
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            running.add(pool.submit(() -> {
                while (!stop.get()) {
                    try {
                        HttpResponse<String> r = post("/v2/models/linear/infer", GOOD);
                        JsonNode data = json.readTree(r.body()).path("outputs").path(0).path("data");
                        float[] y = new float[data.size()];
                        for (int i = 0; i < y.length; i++) {
                            y[i] = data.get(i).floatValue();
                        }
                        if (r.statusCode() != 200) {
                            failures.add("good request got " + r.statusCode() + ": " + r.body());
                        } else {
                            assertArrayEquals(expected, y);
                            good.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failures.add("good request: " + e);
                    }
                }
            }));
        }
        for (int t = 0; t < 3; t++) {
            int thread = t;
            running.add(pool.submit(() -> {
                int i = 0;
                while (!stop.get()) {
                    try {
                        int status;
                        int kind = (i++ + thread) % (HOSTILE.size() + 5);
                        if (kind < HOSTILE.size()) {
                            HttpResponse<String> r = post("/v2/models/linear/infer", HOSTILE.get(kind).getKey());
                            status = r.statusCode();
                            if (status != HOSTILE.get(kind).getValue()) {
                                failures.add("hostile " + kind + " got " + status + ": " + r.body());
                            }
                        } else if (kind == HOSTILE.size()) {
                            status = post("/v2/models/nosuch/infer", GOOD).statusCode(); // unknown model: 404
                        } else if (kind == HOSTILE.size() + 1) {
                            status = raw("POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                                    + "\r\nContent-Length: 900000000\r\n\r\n", new byte[] {'{'}, false); // 413
                        } else if (kind == HOSTILE.size() + 2) {
                            byte[] notText = {0, 0, 0, 1, (byte) 0xff, (byte) 0xfe, 0, 0, 0x7b};
                            status = raw("POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                                    + "\r\nContent-Length: " + notText.length + "\r\n\r\n", notText, false);
                        } else if (kind == HOSTILE.size() + 3) {
                            status = raw("POST /v2/models/linear/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                                    + "\r\nContent-Length: 5000\r\n\r\n", GOOD.substring(0, 30).getBytes(StandardCharsets.US_ASCII),
                                    true);
                        } else {
                            status = http.send(HttpRequest.newBuilder(uri("/v2/models/linear/infer"))
                                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(GOOD))
                                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode();
                        }
                        if (status >= 500) {
                            failures.add("hostile request kind " + kind + " got a server error " + status);
                        }
                        hostileStatuses.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
                        hostile.incrementAndGet();
                    } catch (Throwable e) {
                        failures.add("hostile request: " + e);
                    }
                }
            }));
        }
        // the burst lasts until both sides did enough (at least 4 s, so it spans several telemetry windows), however
        // fast this machine is; the assertions below then judge what happened, not how much fitted in a fixed time
        long burstStart = System.nanoTime();
        while (System.nanoTime() - burstStart < TimeUnit.SECONDS.toNanos(4)
                || (System.nanoTime() - burstStart < TimeUnit.SECONDS.toNanos(60) && (good.get() <= 50
                        || hostile.get() <= 50 || !hostileStatuses.keySet().containsAll(List.of(400, 404, 413))))) {
            Thread.sleep(100);
        }
        stop.set(true);
        for (Future<?> f : running) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();

        assertTrue(failures.isEmpty(), failures.size() + " failures, first: " + failures.peek());
        assertTrue(good.get() > 50, "good requests answered: " + good.get());
        assertTrue(hostile.get() > 50, "hostile requests sent: " + hostile.get());
        for (int status : new int[] {400, 404, 413}) {
            assertTrue(hostileStatuses.containsKey(status), "every kind of refusal was tried: " + hostileStatuses);
        }
        assertTrue(uncaught.isEmpty(), "a thread died of an uncaught exception: " + uncaught);

        // The background worker: the built-in loop counted inferences in every window of the burst, without an error.
        ServerClient.await(() -> srv.telemetry(DEV).size() >= windowsBefore + 4, 10_000, "windows of the burst");
        List<TelemetryWindow> ws = srv.telemetry(DEV);
        List<TelemetryWindow> burst = ws.subList(windowsBefore, ws.size());
        for (TelemetryWindow w : burst) {
            assertEquals(0, w.errors(), "an error in telemetry: " + w);
        }
        assertTrue(burst.stream().filter(w -> w.model() != null).allMatch(w -> w.inferences() > 0),
                "the loop kept running: " + burst.stream().map(TelemetryWindow::inferences).toList());
        assertEquals(200, post("/v2/models/linear/infer", GOOD).statusCode(), "and the API still serves");
    }
}
