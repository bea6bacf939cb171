package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.ServerClient;
import io.edgefleet.agent.testing.TestBroker;
import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.DeviceEvent.Type;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ModelStatus;
import io.edgefleet.protocol.TelemetryWindow;
import io.edgefleet.protocol.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real agent (ONNX Runtime, MQTT, HTTP) holding two models: both deployed at once, each served under its
 * own name by the inference API with its own answers, one telemetry window per model per period, both in
 * the status, and both back after a restart.
 */
class AgentTwoModelsTest {
    static final String DEV = "dev-two";
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

    /** Interval of the agent's own loop; an hour by default, so only the API's inferences count. */
    long intervalMs = 3_600_000;

    Agent start() throws Exception {
        AgentConfig cfg = AgentConfig.builder().deviceId(DEV).classId(CLASS).mqttUrl(broker.url())
                .serverKeys(List.of(server.publicKeyBase64())).dataDir(dir.resolve("agent")).telemetryWindowSeconds(1)
                .inferenceIntervalMs(intervalMs).downloadTimeoutSeconds(30).servingEnabled(true).servingPort(0).build();
        Agent a = new Agent(cfg);
        a.start();
        ServerClient.await(a::isConnected, 10_000, "agent connected");
        return a;
    }

    JsonNode infer(String model, int expectStatus) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + agent.inferenceAddress().getPort() + "/v2/models/" + model + "/infer"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(expectStatus, r.statusCode(), r.body());
        return json.readTree(r.body());
    }

    static float[] floats(JsonNode data) {
        float[] f = new float[data.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = data.get(i).floatValue();
        }
        return f;
    }

    @Test
    void twoModelsAreDeployedServedAndReportedSideBySide() throws Exception {
        agent = start();
        byte[] linear = TinyOnnx.linear(0f);
        byte[] shifted = TinyOnnx.linear(0.5f);
        Artifacts.Artifact a = server.make(CLASS, "linear", 1, linear);
        Artifacts.Artifact b = server.make(CLASS, "shifted", 3, shifted);
        srv.publishArtifact(a);
        srv.publishArtifact(b);
        HealthPolicy quick = new HealthPolicy(0, 0.05, 1, 1);
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(a.deploy("dep-a", quick), DEV)), false);
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(b.deploy("dep-b", quick), DEV)), false);
        ServerClient.await(() -> agent.inference().isReady("linear") && agent.inference().isReady("shifted"), 20_000,
                "both activated");

        // Each name answers with its own model; the health watch of each is judged on its own windows.
        int calls = 5;
        for (int i = 0; i < calls; i++) {
            JsonNode ra = infer("linear", 200);
            JsonNode rb = infer("shifted", 200);
            assertEquals("1", ra.path("model_version").asText());
            assertEquals("3", rb.path("model_version").asText());
            assertArrayEquals(AgentServingTest.direct(linear), floats(ra.path("outputs").get(0).path("data")));
            assertArrayEquals(AgentServingTest.direct(shifted), floats(rb.path("outputs").get(0).path("data")));
        }
        infer("absent", 404);
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED && "dep-a".equals(e.deploymentId()), 20_000);
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED && "dep-b".equals(e.deploymentId()), 20_000);

        // The status lists both models, committed; active/standby carry the first by name for older servers.
        ServerClient.await(() -> {
            DeviceStatus s = srv.lastStatus(DEV);
            return s != null && s.models() != null && s.models().size() == 2
                    && s.models().stream().allMatch(m -> m.state() == ModelStatus.UpdateState.COMMITTED);
        }, 10_000, "status names both models committed");
        DeviceStatus s = srv.lastStatus(DEV);
        assertEquals(List.of("linear", "shifted"), s.models().stream().map(ModelStatus::name).toList());
        assertEquals(a.model(), s.active());
        assertEquals(b.model(), s.models().get(1).active());

        // One window per model per period, each naming its model and counting only its own inferences.
        Map<String, Long> counted = new HashMap<>();
        ServerClient.await(() -> {
            counted.clear();
            Map<String, TelemetryWindow> byId = new HashMap<>();
            srv.telemetry(DEV).forEach(w -> byId.put(w.id(), w));
            byId.values().forEach(w -> {
                if (w.model() != null) {
                    counted.merge(w.model().model(), w.inferences(), Long::sum);
                }
            });
            return counted.getOrDefault("linear", 0L) == calls && counted.getOrDefault("shifted", 0L) == calls;
        }, 10_000, "telemetry per model, got " + counted);

        // A restart brings both back from their own stores.
        agent.stop();
        agent = start();
        assertEquals(Map.of("linear", a.model(), "shifted", b.model()), agent.runningModels());
        assertArrayEquals(AgentServingTest.direct(shifted), floats(infer("shifted", 200).path("outputs").get(0).path("data")));
        assertTrue(agent.inference().ready());
    }

    @Test
    void eachModelRunsItsOwnLoopBesideTheApi() throws Exception {
        intervalMs = 20;
        agent = start();
        Artifacts.Artifact a = server.make(CLASS, "linear", 1, TinyOnnx.linear(0f));
        Artifacts.Artifact b = server.make(CLASS, "shifted", 1, TinyOnnx.linear(0.5f));
        srv.publishArtifact(a);
        srv.publishArtifact(b);
        HealthPolicy quick = new HealthPolicy(0, 0.05, 1, 1);
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(a.deploy("dep-a", quick), DEV)), false);
        srv.publish(Topics.cmd(DEV), codec.encode(server.sign(b.deploy("dep-b", quick), DEV)), false);
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED && "dep-a".equals(e.deploymentId()), 30_000);
        srv.awaitEvent(DEV, e -> e.type() == Type.COMMITTED && "dep-b".equals(e.deploymentId()), 30_000);
        infer("linear", 200);
        infer("shifted", 200);
        // The loops' inferences land in their own model's windows.
        ServerClient.await(() -> srv.telemetry(DEV).stream().anyMatch(w -> a.model().equals(w.model()) && w.inferences() > 10)
                && srv.telemetry(DEV).stream().anyMatch(w -> b.model().equals(w.model()) && w.inferences() > 10), 15_000,
                "both loops report");
    }
}
