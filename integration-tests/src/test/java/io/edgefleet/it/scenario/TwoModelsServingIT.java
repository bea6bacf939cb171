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
import io.edgefleet.it.Log;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's "Done when": the packaged server, a real broker and two real agent processes ({@code AgentMain}, each in
 * its own JVM with {@code -Xmx128m -XX:+UseSerialGC}); two models deployed to them (all targets at once), both called
 * through each agent's inference API with samples of a validation {@code .npz}, and every answer equal to ONNX
 * Runtime's own on the same model file; the server shows both models on each device. Then one agent's input stream
 * drifts (its application sends shifted inputs) while the other's does not: the drift score in the stored telemetry
 * rises for the first and stays low for the second. Both agents' built-in loops feed the same {@code .npz} meanwhile
 * (so the health watch has traffic to commit on and the drift reference is the validation distribution).
 * <p>
 * An agent process that dies is reported with its exit code and the tail of its own log (stdout and stderr go to a
 * file, never to a pipe nobody drains), and a JVM crash log lands next to it ({@code -XX:ErrorFile}).
 */
class TwoModelsServingIT {
    static final String CLASS = "it-two";
    /** Generous: the agent JVM starts cold and loads ONNX Runtime twice; a loaded two-core machine is slow at that. */
    static final Duration TIMEOUT = Duration.ofSeconds(240);
    /** Validation rows: the agents' loop cycles through all of them, the API check uses the first {@link #CHECKED}. */
    static final int SAMPLES = 256;
    static final int CHECKED = 24;
    /** What the drifting application adds to every input value: far outside the reference. */
    static final float SHIFT = 3f;
    static final double ALERT = 0.2;
    static final String ALL_AT_ONCE = "{\"canary\":{\"percent\":100},\"batches\":{\"percent\":100},\"soakSeconds\":0,"
            + "\"successCondition\":{\"minCommittedPercent\":0},\"gates\":{\"latency\":false,\"energy\":false}}";
    static final ObjectMapper JSON = new ObjectMapper();

    static Fleet fleet;
    static Api api;
    static final List<AgentProcess> agents = new ArrayList<>();

    /** One agent in its own JVM: its process, data and log, and where its inference API listens. */
    record AgentProcess(String id, Process process, Path dir, Path log, int port) {
        String base() {
            return "http://127.0.0.1:" + port;
        }

        /** Exit code and log tail when it is gone; the log tail and its agent threads while it runs. */
        String report() {
            StringBuilder sb = new StringBuilder("agent process " + id + " (pid " + process.pid() + "): ");
            sb.append(process.isAlive() ? "running" : "EXITED with code " + process.exitValue()).append("\n");
            try {
                List<String> lines = Files.readAllLines(log);
                sb.append(String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
            } catch (Exception e) {
                sb.append("(no agent log: ").append(e).append(')');
            }
            try (var crashes = Files.list(dir)) {
                crashes.filter(f -> f.getFileName().toString().startsWith("hs_err")).forEach(f -> sb.append("\ncrash log ")
                        .append(f));
            } catch (Exception e) {
                sb.append("\n(cannot list ").append(dir).append(')');
            }
            if (process.isAlive()) {
                try {
                    Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                            Long.toString(process.pid()), "Thread.print").redirectErrorStream(true).start();
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
    }

    @BeforeAll
    static void startFleet() {
        fleet = Fleet.start("twomodels");
        api = fleet.api();
    }

    @AfterAll
    static void stopAll() throws Exception {
        for (AgentProcess a : agents) {
            a.process().destroy();
            if (!a.process().waitFor(20, TimeUnit.SECONDS)) {
                a.process().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (fleet != null) {
            fleet.close();
        }
    }

    static String reports() {
        StringBuilder sb = new StringBuilder();
        agents.forEach(a -> sb.append(a.report()).append("\n"));
        return sb.toString();
    }

    /**
     * One AgentMain in its own JVM, from the module classpath the build writes. Its output goes to a file: a pipe
     * that nobody reads fills up after 64 KiB and blocks the agent's logging thread, and with it the agent.
     */
    static AgentProcess startAgentProcess(Fleet.Device d, Path input) throws Exception {
        int port = Net.freePort();
        Path dir = Files.createTempDirectory("edgefleet-it-two-");
        Path config = dir.resolve("agent.properties");
        Map<String, String> settings = new LinkedHashMap<>();
        // Windows of a few hundred inferences: with 10 quantile bins a window of 20-30 samples scores a PSI
        // of 0.9 and more on unshifted data (empty bins), so small windows report no drift at all.
        settings.put("telemetryWindowSeconds", "3");
        settings.put("inferenceIntervalMs", "20");
        settings.put("input", input.toString());
        settings.put("driftSelfReferenceSamples", String.valueOf(SAMPLES));
        settings.put("driftMinWindowSamples", "100");
        settings.put("servingEnabled", "true");
        settings.put("servingPort", String.valueOf(port));
        Files.writeString(config, Fleet.agentProperties(d, dir.resolve("data"), settings), StandardCharsets.UTF_8);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log")));
        cmd.addAll(agentLauncher());
        cmd.addAll(List.of("--config", config.toString()));
        Path log = Repo.buildDir().resolve("it-two-models-agent-" + d.id() + ".log");
        Log.info("agent " + d.id() + ": AgentMain --config " + config + " (log " + log + ")");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        AgentProcess a = new AgentProcess(d.id(), p, dir, log, port);
        agents.add(a);
        return a;
    }

    /**
     * The agent's module classpath as the build writes it. (Launched like this, the agent process used to die with a
     * SIGSEGV, exit code 139 and no crash log, right after verifying its first model: ONNX Runtime's environment
     * creation recursed past the 1 MiB stack of the agent thread. {@code OrtModelRunner.environment()} now creates it
     * on a thread with a large stack; this test is what showed it.)
     */
    static List<String> agentLauncher() throws Exception {
        Path cpFile = Repo.buildDir().resolve("test-classpath.txt");
        return List.of("-cp", Files.readString(cpFile).trim() + java.io.File.pathSeparator + System.getProperty("java.class.path"),
                "io.edgefleet.agent.AgentMain");
    }

    /** A validation set for the MLP's input x[N,16], a seeded sample per row, written as the only .npz in {@code dir}. */
    static Path writeValidation(Path dir) throws Exception {
        float[] x = OnnxBuilder.randomNormal(1234, SAMPLES * 16, 1f);
        Files.createDirectories(dir);
        Npz.write(dir.resolve("validation.npz"), Map.of("x", NpyArray.ofFloats(x, SAMPLES, 16)));
        return dir;
    }

    /** The validation rows as the agents read them (read back from the .npz). */
    static float[] validationInputs(Path dir) throws Exception {
        NpyArray back = Npz.read(dir.resolve("validation.npz")).get("x");
        assertEquals(SAMPLES, back.sampleCount());
        return back.toFloats();
    }

    static String inferBody(float[] row) {
        return "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,16],\"datatype\":\"FP32\",\"data\":" + Arrays.toString(row)
                + "}]}";
    }

    static HttpResponse<String> infer(HttpClient http, AgentProcess a, String model, float[] row) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(a.base() + "/v2/models/" + model + "/infer"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(inferBody(row))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The stored telemetry windows of one model on one device, newest first. */
    static List<JsonNode> windows(String device, String model) {
        List<JsonNode> out = new ArrayList<>();
        api.get("/api/v1/devices/" + device + "/telemetry?limit=1000").expect(200).forEach(w -> {
            if (model.equals(w.path("model").path("model").asText())) {
                out.add(w);
            }
        });
        return out;
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
    void twoAgentProcessesServeTwoModelsExactlyAsOnnxRuntimeAndOnlyTheDriftedOneRaisesItsDriftScore() throws Exception {
        api.createDeviceClass(CLASS, 500.0);
        List<Fleet.Device> devices = fleet.register(CLASS, "it-two-1", "it-two-2");
        Path input = writeValidation(Files.createTempDirectory("edgefleet-it-two-input-"));
        for (Fleet.Device d : devices) {
            startAgentProcess(d, input);
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        for (AgentProcess a : agents) {
            Await.until(TIMEOUT, a.id() + "'s process serves its inference API", () -> Net.accepts("127.0.0.1", a.port(), 500),
                    TwoModelsServingIT::reports);
        }

        byte[] a = TestModels.mlp(41).bytes();
        byte[] b = TestModels.mlp(42).bytes();
        Map<String, byte[]> models = Map.of("it-two-a", a, "it-two-b", b);
        for (Map.Entry<String, byte[]> m : models.entrySet()) {
            long version = api.uploadModel(m.getKey(), m.getValue()).path("version").asLong();
            String body = "{\"model\":\"" + m.getKey() + "\",\"version\":" + version + ",\"classId\":\"" + CLASS
                    + "\",\"policy\":" + ALL_AT_ONCE + "}";
            api.post("/api/v1/deployments", body).expect(202);
        }
        for (AgentProcess agent : agents) {
            for (String name : models.keySet()) {
                Await.until(TIMEOUT, name + " is ready on " + agent.id(), () -> status(http, agent.base() + "/v2/models/" + name
                        + "/ready") == 200, TwoModelsServingIT::reports);
            }
        }

        float[] x = validationInputs(input);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (Map.Entry<String, byte[]> m : models.entrySet()) {
            try (OrtSession direct = env.createSession(m.getValue(), new OrtSession.SessionOptions())) {
                for (AgentProcess agent : agents) {
                    for (int n = 0; n < CHECKED; n++) {
                        float[] row = Arrays.copyOfRange(x, n * 16, (n + 1) * 16);
                        HttpResponse<String> r = infer(http, agent, m.getKey(), row);
                        assertEquals(200, r.statusCode(), r.body());
                        JsonNode out = JSON.readTree(r.body());
                        assertEquals(m.getKey(), out.path("model_name").asText());
                        JsonNode data = out.path("outputs").get(0).path("data");
                        float[] got = new float[data.size()];
                        for (int i = 0; i < got.length; i++) {
                            got[i] = data.get(i).floatValue();
                        }
                        assertArrayEquals(ort(direct, row), got, m.getKey() + " on " + agent.id() + ", sample " + n);
                    }
                }
            }
        }
        // The two answer differently (different weights), so a request answered by the other model would have failed.
        try (OrtSession sa = env.createSession(a, new OrtSession.SessionOptions());
             OrtSession sb = env.createSession(b, new OrtSession.SessionOptions())) {
            assertTrue(!Arrays.equals(ort(sa, Arrays.copyOf(x, 16)), ort(sb, Arrays.copyOf(x, 16))));
        }

        // The server shows both models on each device, each with its own active version.
        for (Fleet.Device d : devices) {
            Await.until(TIMEOUT, d.id() + " shows both models committed", () -> {
                JsonNode list = api.get("/api/v1/devices/" + d.id()).expect(200).path("models");
                if (list.size() != 2) {
                    return false;
                }
                for (JsonNode m : list) {
                    if (!"COMMITTED".equals(m.path("updateState").asText())
                            || !models.containsKey(m.path("active").path("model").asText())) {
                        return false;
                    }
                }
                return true;
            }, () -> api.get("/api/v1/devices/" + d.id()).expect(200) + "\n" + reports());
        }
        for (String name : models.keySet()) {
            List<String> ids = new ArrayList<>();
            api.get("/api/v1/devices?model=" + name).expect(200).forEach(d -> ids.add(d.path("id").asText()));
            assertEquals(List.of("it-two-1", "it-two-2"), ids.stream().sorted().toList(), name);
        }

        // Drift: both agents first report drift of model a against the reference they took from their first inferences.
        String model = "it-two-a";
        for (Fleet.Device d : devices) {
            Await.until(TIMEOUT, d.id() + " reports drift of " + model + " against its self-reference", () -> windows(d.id(), model)
                    .stream().anyMatch(w -> "self".equals(w.path("driftDetail").path("reference").asText())),
                    TwoModelsServingIT::reports);
        }
        // Then it-two-1's application sends shifted inputs and it-two-2's the same rows unshifted, as fast as they answer.
        long since = System.currentTimeMillis();
        AtomicBoolean feeding = new AtomicBoolean(true);
        AtomicReference<String> feedError = new AtomicReference<>();
        List<Thread> feeders = new ArrayList<>();
        for (AgentProcess agent : agents) {
            float shift = agent.id().equals("it-two-1") ? SHIFT : 0f;
            Thread t = new Thread(() -> {
                HttpClient own = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                for (int n = 0; feeding.get(); n++) {
                    float[] row = Arrays.copyOfRange(x, (n % SAMPLES) * 16, (n % SAMPLES + 1) * 16);
                    for (int i = 0; i < row.length; i++) {
                        row[i] += shift;
                    }
                    try {
                        HttpResponse<String> r = infer(own, agent, model, row);
                        if (r.statusCode() != 200) {
                            feedError.compareAndSet(null, agent.id() + ": " + r.statusCode() + " " + r.body());
                        }
                    } catch (Exception e) {
                        feedError.compareAndSet(null, agent.id() + ": " + e);
                    }
                }
            }, "feed-" + agent.id());
            t.setDaemon(true);
            t.start();
            feeders.add(t);
        }
        try {
            Await.until(TIMEOUT, "the drifted agent's stored drift crosses " + ALERT, () -> windows("it-two-1", model).stream()
                    .anyMatch(w -> w.path("windowStart").asLong() >= since && w.path("drift").asDouble(0) >= ALERT),
                    () -> windows("it-two-1", model) + "\n" + reports());
            // the undrifted agent gets as long a stream: at least 4 windows with a drift score since the feeding began
            Await.until(TIMEOUT, "the undrifted agent reports drift windows while fed", () -> windows("it-two-2", model).stream()
                    .filter(w -> w.path("windowStart").asLong() >= since && w.hasNonNull("drift")).count() >= 4,
                    () -> windows("it-two-2", model) + "\n" + reports());
        } finally {
            feeding.set(false);
            for (Thread t : feeders) {
                t.join(10_000);
            }
        }
        assertEquals(null, feedError.get(), "every fed request was answered");
        List<JsonNode> drifted = windows("it-two-1", model).stream().filter(w -> w.path("windowStart").asLong() >= since
                && w.hasNonNull("drift")).toList();
        List<JsonNode> calm = windows("it-two-2", model).stream().filter(w -> w.path("windowStart").asLong() >= since
                && w.hasNonNull("drift")).toList();
        long alarms = calm.stream().filter(w -> w.path("drift").asDouble() >= ALERT).count();
        assertEquals(0, alarms, alarms + " of " + calm.size() + " undrifted windows crossed " + ALERT + ": " + calm);
        double maxDrifted = drifted.stream().mapToDouble(w -> w.path("drift").asDouble()).max().orElse(0);
        double maxCalm = calm.stream().mapToDouble(w -> w.path("drift").asDouble()).max().orElse(0);
        assertTrue(maxDrifted >= ALERT && maxCalm < ALERT, "drifted max " + maxDrifted + ", undrifted max " + maxCalm);
        for (Fleet.Device d : devices) {
            for (JsonNode w : windows(d.id(), model)) {
                assertTrue(w.hasNonNull("energySource"), "every stored window names its energy source: " + w);
            }
        }
        for (AgentProcess agent : agents) {
            assertTrue(agent.process().isAlive(), agent.report());
        }
    }
}
