package io.edgefleet.it.scenario;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.it.Api;
import io.edgefleet.it.Await;
import io.edgefleet.it.Fleet;
import io.edgefleet.it.Net;
import io.edgefleet.it.Repo;
import io.edgefleet.it.TestModels;
import io.edgefleet.engine.onnx.OnnxBuilder;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.Npz;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's "Done when", the serving half: the packaged server, a real broker and a real agent (in this JVM, as
 * the other scenarios run it; {@code -Dit.agent-process=true} runs {@code AgentMain} in its own JVM); two models deployed to it (all targets at once), both called through
 * the agent's inference API with every sample of a validation {@code .npz}, and every answer equal to ONNX
 * Runtime's own on the same model file. The server then shows both models on the device.
 */
class TwoModelsServingIT {
    static final String CLASS = "it-two";
    /** Generous: the agent JVM starts cold and loads ONNX Runtime twice; a loaded two-core machine is slow at that. */
    static final Duration TIMEOUT = Duration.ofSeconds(240);
    static final int SAMPLES = 24;
    static final String ALL_AT_ONCE = "{\"canary\":{\"percent\":100},\"batches\":{\"percent\":100},\"soakSeconds\":0,"
            + "\"successCondition\":{\"minCommittedPercent\":0},\"gates\":{\"latency\":false,\"energy\":false}}";
    static final ObjectMapper JSON = new ObjectMapper();

    static Fleet fleet;
    static Api api;
    static Process agent;
    static Path agentDir;
    static Path agentLog;

    @BeforeAll
    static void startFleet() {
        fleet = Fleet.start("twomodels");
        api = fleet.api();
    }

    @AfterAll
    static void stopAll() throws Exception {
        if (agent != null) {
            agent.destroy();
            if (!agent.waitFor(20, TimeUnit.SECONDS)) {
                agent.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (fleet != null) {
            fleet.close();
        }
    }

    /** One AgentMain in its own JVM, from the module classpath the build writes. */
    static Process startAgentProcess(Fleet.Device d, int servingPort) throws Exception {
        agentDir = Files.createTempDirectory("edgefleet-it-two-");
        Path config = agentDir.resolve("agent.properties");
        Files.writeString(config, String.join("\n",
                "deviceId=" + d.id(),
                "classId=" + d.classId(),
                "mqttUrl=" + d.mqttUrl(),
                "username=" + d.username(),
                "password=" + d.password(),
                "serverKeys=" + String.join(",", d.serverKeys()),
                "dataDir=" + agentDir.resolve("data"),
                "telemetryWindowSeconds=1",
                "inferenceIntervalMs=20",
                "servingEnabled=true",
                "servingPort=" + servingPort,
                ""), StandardCharsets.UTF_8);
        Path cpFile = Repo.buildDir().resolve("test-classpath.txt");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-cp", Files.readString(cpFile).trim() + java.io.File.pathSeparator
                        + System.getProperty("java.class.path"),
                "io.edgefleet.agent.AgentMain", "--config", config.toString()));
        agentLog = Repo.buildDir().resolve("it-two-models-agent.log");
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(agentLog.toFile()).start();
    }

    /** The agent's log tail and, while it runs, where its agent threads stand (for a timeout's report). */
    static String logTail() {
        StringBuilder sb = new StringBuilder();
        if (agentLog == null) {
            return "(the agent runs in this JVM; see the test output)";
        }
        try {
            List<String> lines = Files.readAllLines(agentLog);
            sb.append(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
        } catch (Exception e) {
            sb.append("(no agent log)");
        }
        if (agent != null && agent.isAlive()) {
            try {
                Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(agent.pid()), "Thread.print").redirectErrorStream(true).start();
                String dump = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                jcmd.waitFor(20, TimeUnit.SECONDS);
                for (String block : dump.split("\n\n")) {
                    if (block.contains("\"agent-") || block.contains("\"inference-")) {
                        sb.append("\n").append(block);
                    }
                }
            } catch (Exception e) {
                sb.append("\n(no thread dump: ").append(e).append(')');
            }
        }
        return sb.toString();
    }

    /** A validation set for the MLP's input x[N,16]: a seeded sample per row, written and read back as .npz. */
    static float[] validationInputs(Path dir) throws Exception {
        float[] x = OnnxBuilder.randomNormal(1234, SAMPLES * 16, 1f);
        Path npz = dir.resolve("validation.npz");
        Npz.write(npz, Map.of("x", NpyArray.ofFloats(x, SAMPLES, 16)));
        NpyArray back = Npz.read(npz).get("x");
        assertEquals(SAMPLES, back.sampleCount());
        return back.toFloats();
    }

    static float[] ort(OrtSession s, float[] row) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(row), new long[] {1, 16});
             OrtSession.Result r = s.run(Map.of("x", t))) {
            FloatBuffer b = ((OnnxTensor) r.get("y").orElseThrow()).getFloatBuffer();
            float[] out = new float[b.remaining()];
            b.get(out);
            return out;
        }
    }

    static int status(HttpClient http, String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void twoModelsOnOneAgentAnswerExactlyAsOnnxRuntime() throws Exception {
        api.createDeviceClass(CLASS, 500.0);
        Fleet.Device device = fleet.register(CLASS, "it-two-1").get(0);
        int port = Net.freePort();
        if (Boolean.getBoolean("it.agent-process")) {
            agent = startAgentProcess(device, port);
        } else {
            // The default: a real Agent (ONNX Runtime, MQTT, HTTP API) in this JVM, as the other scenarios run it.
            agentDir = Files.createTempDirectory("edgefleet-it-two-");
            fleet.startAgent(device, c -> c.telemetryWindowSeconds(1).inferenceIntervalMs(20).servingEnabled(true)
                    .servingPort(port));
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String base = "http://127.0.0.1:" + port;
        Await.until(TIMEOUT, "the agent process serves its inference API", () -> Net.accepts("127.0.0.1", port, 500),
                TwoModelsServingIT::logTail);

        byte[] a = TestModels.mlp(41).bytes();
        byte[] b = TestModels.mlp(42).bytes();
        Map<String, byte[]> models = Map.of("it-two-a", a, "it-two-b", b);
        for (Map.Entry<String, byte[]> m : models.entrySet()) {
            long version = api.uploadModel(m.getKey(), m.getValue()).path("version").asLong();
            String body = "{\"model\":\"" + m.getKey() + "\",\"version\":" + version + ",\"classId\":\"" + CLASS
                    + "\",\"policy\":" + ALL_AT_ONCE + "}";
            api.post("/api/v1/deployments", body).expect(202);
        }
        for (String name : models.keySet()) {
            Await.until(TIMEOUT, name + " is ready on the agent", () -> status(http, base + "/v2/models/" + name + "/ready")
                    == 200, TwoModelsServingIT::logTail);
        }

        float[] x = validationInputs(agentDir);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (Map.Entry<String, byte[]> m : models.entrySet()) {
            try (OrtSession direct = env.createSession(m.getValue(), new OrtSession.SessionOptions())) {
                for (int n = 0; n < SAMPLES; n++) {
                    float[] row = Arrays.copyOfRange(x, n * 16, (n + 1) * 16);
                    String req = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,16],\"datatype\":\"FP32\",\"data\":"
                            + Arrays.toString(row) + "}]}";
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/models/" + m.getKey()
                                    + "/infer")).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(req)).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, r.statusCode(), r.body());
                    JsonNode out = JSON.readTree(r.body());
                    assertEquals(m.getKey(), out.path("model_name").asText());
                    JsonNode data = out.path("outputs").get(0).path("data");
                    float[] got = new float[data.size()];
                    for (int i = 0; i < got.length; i++) {
                        got[i] = data.get(i).floatValue();
                    }
                    assertArrayEquals(ort(direct, row), got, m.getKey() + " sample " + n);
                }
            }
        }
        // The two answer differently (different weights), so a request answered by the other model would have failed.
        try (OrtSession sa = env.createSession(a, new OrtSession.SessionOptions());
             OrtSession sb = env.createSession(b, new OrtSession.SessionOptions())) {
            assertTrue(!Arrays.equals(ort(sa, Arrays.copyOf(x, 16)), ort(sb, Arrays.copyOf(x, 16))));
        }

        // The server shows both models on the device, each with its own active version.
        Await.until(TIMEOUT, "the device shows both models committed", () -> {
            JsonNode dev = api.get("/api/v1/devices/it-two-1").expect(200);
            JsonNode list = dev.path("models");
            if (list.size() != 2) {
                return false;
            }
            for (JsonNode m : list) {
                if (!"COMMITTED".equals(m.path("updateState").asText()) || !models.containsKey(m.path("active").path("model").asText())) {
                    return false;
                }
            }
            return true;
        }, () -> api.get("/api/v1/devices/it-two-1").expect(200).toString());
        for (String name : models.keySet()) {
            api.get("/api/v1/devices?model=" + name).expect(200).forEach(d -> assertEquals("it-two-1", d.path("id").asText()));
        }
    }
}
