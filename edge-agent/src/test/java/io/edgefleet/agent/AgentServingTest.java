package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.agent.serving.InferInput;
import io.edgefleet.agent.serving.InferRequest;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.ServerClient;
import io.edgefleet.agent.testing.TestBroker;
import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.DeviceEvent.Type;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
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
 * A real agent (ONNX Runtime, MQTT) serving its deployed model over HTTP: answers equal ONNX Runtime's,
 * an update under load fails no request, and the telemetry windows count exactly the API's inferences.
 */
class AgentServingTest {
    static final String DEV = "dev-serve";
    static final String CLASS = "gw";
    static final float[] X = {0.5f, -1.25f, 2f, 3.5f};
    static final String BODY = "{\"inputs\":[{\"name\":\"X\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[0.5,-1.25,2,3.5]}]}";

    @TempDir
    Path dir;

    final Artifacts server = new Artifacts();
    final JsonCodec codec = new JsonCodec();
    final ObjectMapper json = new ObjectMapper();
    final HttpClient http = HttpClient.newHttpClient();
    TestBroker broker;
    ServerClient srv;
    Agent agent;

    @BeforeEach
    void setUp() throws Exception {
        broker = new TestBroker();
        srv = new ServerClient(broker.url());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (agent != null) {
            agent.stop();
        }
        srv.close();
        broker.close();
    }

    static float[] direct(byte[] model) throws Exception {
        OrtEnvironment env = OrtModelRunner.environment();
        try (OrtSession s = env.createSession(model, new OrtSession.SessionOptions());
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(X), new long[] {1, 4});
             OrtSession.Result r = s.run(Map.of("X", t))) {
            FloatBuffer b = ((OnnxTensor) r.get("Y").orElseThrow()).getFloatBuffer();
            float[] out = new float[b.remaining()];
            b.get(out);
            return out;
        }
    }

    HttpResponse<String> post(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.inferenceAddress().getPort() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    float[] floats(JsonNode data) {
        float[] f = new float[data.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = data.get(i).floatValue();
        }
        return f;
    }

    @Test
    void servesTheDeployedModelThroughAnUpdateAndCountsEveryInferenceInTelemetry() throws Exception {
        // The built-in loop runs once an hour: every inference in telemetry comes from the API.
        AgentConfig cfg = AgentConfig.builder().deviceId(DEV).classId(CLASS).mqttUrl(broker.url())
                .serverKeys(List.of(server.publicKeyBase64())).dataDir(dir.resolve("agent")).telemetryWindowSeconds(1)
                .inferenceIntervalMs(3_600_000).downloadTimeoutSeconds(30)
                .servingEnabled(true).servingPort(0).build();
        agent = new Agent(cfg);
        agent.start();
        assertNotNull(agent.inferenceAddress(), "port 0 binds an ephemeral port");
        ServerClient.await(agent::isConnected, 10_000, "agent connected");
        assertEquals(404, post("/v2/models/linear/infer").statusCode(), "nothing deployed yet");

        byte[] m1 = TinyOnnx.linear(0f);
        byte[] m2 = TinyOnnx.linear(0.5f);
        Map<String, float[]> expected = Map.of("1", direct(m1), "2", direct(m2));
        Artifacts.Artifact v1 = server.make(CLASS, "linear", 1, m1);
        Artifacts.Artifact v2 = server.make(CLASS, "linear", 2, m2);

        // Clients call the API all along; the health watch of each deploy judges their inferences.
        AtomicBoolean stop = new AtomicBoolean();
        Map<String, AtomicLong> answeredBy = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> clients = new ArrayList<>();
        srv.publishArtifact(v1);
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(v1.deploy("dep-1", new HealthPolicy(0, 0.05, 2, 5)), DEV)), false);
        ServerClient.await(() -> agent.inference().isReady("linear"), 15_000, "v1 activated");
        for (int t = 0; t < 2; t++) {
            clients.add(pool.submit(() -> {
                while (!stop.get()) {
                    try {
                        HttpResponse<String> r = post("/v2/models/linear/infer");
                        JsonNode body = json.readTree(r.body());
                        if (r.statusCode() != 200) {
                            failures.add(r.statusCode() + " " + r.body());
                            continue;
                        }
                        String version = body.path("model_version").asText();
                        float[] y = floats(body.path("outputs").get(0).path("data"));
                        if (!java.util.Arrays.equals(y, expected.get(version))) {
                            failures.add("version " + version + " answered " + java.util.Arrays.toString(y));
                        }
                        answeredBy.computeIfAbsent(version, k -> new AtomicLong()).incrementAndGet();
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            }));
        }
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED && "dep-1".equals(e.deploymentId()), 30_000);
        srv.publishArtifact(v2);
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(v2.deploy("dep-2", new HealthPolicy(0, 0.05, 2, 5)), DEV)), false);
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED && "dep-2".equals(e.deploymentId()), 30_000);
        ServerClient.await(() -> answeredBy.getOrDefault("2", new AtomicLong()).get() > 20, 10_000, "v2 answers");
        stop.set(true);
        for (Future<?> f : clients) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertTrue(failures.isEmpty(), failures.size() + " requests failed during the update, first: " + failures.peek());

        // The in-process API answers like the HTTP one.
        var direct = agent.inference().infer("linear", InferRequest.of(InferInput.fp32("X", new long[] {1, 4}, X)));
        assertEquals("2", direct.modelVersion());
        assertArrayEquals(expected.get("2"), direct.output("Y").floats());
        long total2 = answeredBy.get("2").get() + 1;

        // Wait until the windows holding all of these have been sent, then compare per version.
        Map<Long, Long> counted = new HashMap<>();
        ServerClient.await(() -> {
            counted.clear();
            Map<String, TelemetryWindow> byId = new HashMap<>();
            srv.telemetry(DEV).forEach(w -> byId.put(w.id(), w));
            byId.values().forEach(w -> {
                if (w.model() != null) {
                    counted.merge(w.model().version(), w.inferences(), Long::sum);
                }
            });
            return counted.getOrDefault(2L, 0L) == total2;
        }, 10_000, "telemetry counts the API's inferences");
        assertEquals(answeredBy.get("1").get(), counted.get(1L), "v1: every answered request is one inference in its window");
        assertEquals(total2, counted.get(2L));
    }
}
