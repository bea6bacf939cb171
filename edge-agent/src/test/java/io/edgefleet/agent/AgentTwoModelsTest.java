package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.testing.Artifacts;
import io.edgefleet.agent.testing.ServerClient;
import io.edgefleet.agent.testing.ServingAgent;
import io.edgefleet.agent.testing.TinyOnnx;
import io.edgefleet.protocol.DeviceEvent.Type;
import io.edgefleet.protocol.DeviceStatus;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.ModelStatus;
import io.edgefleet.protocol.TelemetryWindow;
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
    static final String CLASS = ServingAgent.CLASS;

    @TempDir
    Path dir;

    ServingAgent fx;
    Artifacts server;
    ServerClient srv;
    Agent agent;

    @BeforeEach
    void setUp() throws Exception {
        fx = new ServingAgent(DEV, dir.resolve("agent"));
        server = fx.server;
        srv = fx.srv;
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    /** Interval of the agent's own loop; an hour by default, so only the API's inferences count. */
    long intervalMs = 3_600_000;

    Agent start() throws Exception {
        return fx.start(fx.config(intervalMs).build());
    }

    JsonNode infer(String model, int expectStatus) throws Exception {
        HttpResponse<String> r = fx.post("/v2/models/" + model + "/infer", ServingAgent.BODY);
        assertEquals(expectStatus, r.statusCode(), r.body());
        return fx.json.readTree(r.body());
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
        fx.deploy(a, "dep-a", quick);
        fx.deploy(b, "dep-b", quick);
        ServerClient.await(() -> agent.inference().isReady("linear") && agent.inference().isReady("shifted"), 20_000,
                "both activated");

        // Each name answers with its own model; the health watch of each is judged on its own windows.
        int calls = 5;
        for (int i = 0; i < calls; i++) {
            JsonNode ra = infer("linear", 200);
            JsonNode rb = infer("shifted", 200);
            assertEquals("1", ra.path("model_version").asText());
            assertEquals("3", rb.path("model_version").asText());
            assertArrayEquals(ServingAgent.direct(linear), ServingAgent.floats(ra.path("outputs").get(0).path("data")));
            assertArrayEquals(ServingAgent.direct(shifted), ServingAgent.floats(rb.path("outputs").get(0).path("data")));
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
        fx.stopAgent();
        agent = start();
        assertEquals(Map.of("linear", a.model(), "shifted", b.model()), agent.runningModels());
        assertArrayEquals(ServingAgent.direct(shifted), ServingAgent.floats(infer("shifted", 200).path("outputs").get(0).path("data")));
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
        fx.deploy(a, "dep-a", quick);
        fx.deploy(b, "dep-b", quick);
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
