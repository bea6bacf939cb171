package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.serving.InferInput;
import io.edgefleet.agent.serving.InferRequest;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.ServerClient;
import io.edgefleet.agent.testing.ServingAgent;
import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.DeviceEvent.Type;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.TelemetryWindow;
import java.net.http.HttpResponse;
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
    static final String CLASS = ServingAgent.CLASS;
    static final String BODY = ServingAgent.BODY;

    @TempDir
    Path dir;

    ServingAgent fx;
    Artifacts server;
    ObjectMapper json;
    ServerClient srv;
    Agent agent;

    @BeforeEach
    void setUp() throws Exception {
        fx = new ServingAgent(DEV, dir.resolve("agent"));
        server = fx.server;
        json = fx.json;
        srv = fx.srv;
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    HttpResponse<String> post(String path) throws Exception {
        return fx.post(path, BODY);
    }

    @Test
    void servesTheDeployedModelThroughAnUpdateAndCountsEveryInferenceInTelemetry() throws Exception {
        // The built-in loop runs once an hour: every inference in telemetry comes from the API.
        agent = fx.start(fx.config(3_600_000).build());
        assertNotNull(agent.inferenceAddress(), "port 0 binds an ephemeral port");
        assertEquals(404, post("/v2/models/linear/infer").statusCode(), "nothing deployed yet");

        byte[] m1 = TinyOnnx.linear(0f);
        byte[] m2 = TinyOnnx.linear(0.5f);
        Map<String, float[]> expected = Map.of("1", ServingAgent.direct(m1), "2", ServingAgent.direct(m2));
        Artifacts.Artifact v1 = server.make(CLASS, "linear", 1, m1);
        Artifacts.Artifact v2 = server.make(CLASS, "linear", 2, m2);

        // Clients call the API all along; the health watch of each deploy judges their inferences.
        AtomicBoolean stop = new AtomicBoolean();
        Map<String, AtomicLong> answeredBy = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<?>> clients = new ArrayList<>();
        srv.publishArtifact(v1);
        fx.deploy(v1, "dep-1", new HealthPolicy(0, 0.05, 2, 5));
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
                        float[] y = ServingAgent.floats(body.path("outputs").get(0).path("data"));
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
        fx.deploy(v2, "dep-2", new HealthPolicy(0, 0.05, 2, 5));
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED && "dep-2".equals(e.deploymentId()), 30_000);
        ServerClient.await(() -> answeredBy.getOrDefault("2", new AtomicLong()).get() > 20, 10_000, "v2 answers");
        stop.set(true);
        for (Future<?> f : clients) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertTrue(failures.isEmpty(), failures.size() + " requests failed during the update, first: " + failures.peek());

        // The in-process API answers like the HTTP one.
        var direct = agent.inference().infer("linear", InferRequest.of(InferInput.fp32("X", new long[] {1, 4}, ServingAgent.X)));
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
