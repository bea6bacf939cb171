package io.edgefleet.agent.testing;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.Agent;
import io.edgefleet.agent.config.AgentConfig;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the agent tests that call the inference API share: an in-process broker, a {@link ServerClient} playing the
 * server with its signing key ({@link Artifacts}), and one real agent (ONNX Runtime, MQTT, HTTP on an ephemeral
 * port) of class {@value #CLASS} with 1 s telemetry windows. The models are {@link TinyOnnx#linear}: input X[1,4],
 * output Y.
 */
public final class ServingAgent implements AutoCloseable {
    public static final String CLASS = "gw";
    /** The one input row every test sends, and {@link #BODY} is its Open Inference Protocol request. */
    public static final float[] X = {0.5f, -1.25f, 2f, 3.5f};
    public static final String BODY = "{\"inputs\":[{\"name\":\"X\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[0.5,-1.25,2,3.5]}]}";

    public final String deviceId;
    public final Artifacts server = new Artifacts();
    public final JsonCodec codec = new JsonCodec();
    public final ObjectMapper json = new ObjectMapper();
    public final HttpClient http = HttpClient.newHttpClient();
    public final TestBroker broker;
    public final ServerClient srv;
    private final Path dataDir;
    private Agent agent;

    /** Starts the broker and the server's client; the agent starts with {@link #start}. */
    public ServingAgent(String deviceId, Path dataDir) throws Exception {
        this.deviceId = deviceId;
        this.dataDir = dataDir;
        broker = new TestBroker();
        srv = new ServerClient(broker.url());
    }

    /** The configuration the tests share; {@code inferenceIntervalMs} of an hour leaves only the API's inferences. */
    public AgentConfig.Builder config(long inferenceIntervalMs) {
        return AgentConfig.builder().deviceId(deviceId).classId(CLASS).mqttUrl(broker.url())
                .serverKeys(List.of(server.publicKeyBase64())).dataDir(dataDir).telemetryWindowSeconds(1)
                .inferenceIntervalMs(inferenceIntervalMs).downloadTimeoutSeconds(30)
                .servingEnabled(true).servingPort(0);
    }

    /** Starts an agent on {@code config} (its data directory survives a stop) and waits until it is connected. */
    public Agent start(AgentConfig config) throws Exception {
        Agent a = new Agent(config);
        agent = a;
        a.start();
        ServerClient.await(a::isConnected, 10_000, "agent connected");
        return a;
    }

    /** The running agent, or null before {@link #start}. */
    public Agent agent() {
        return agent;
    }

    /** Stops the running agent, e.g. before starting it again on the same data. */
    public void stopAgent() {
        if (agent != null) {
            agent.stop();
            agent = null;
        }
    }

    /** Sends the artifact's deploy command, signed for this device. */
    public void deploy(Artifacts.Artifact a, String deploymentId, HealthPolicy policy) throws Exception {
        srv.publish(Topics.cmd(deviceId), codec.encode(server.sign(a.deploy(deploymentId, policy), deviceId)), false);
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + agent.inferenceAddress().getPort() + path);
    }

    /** POSTs {@code body} as JSON to the running agent's inference API. */
    public HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The floats of an output's {@code data} array. */
    public static float[] floats(JsonNode data) {
        float[] f = new float[data.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = data.get(i).floatValue();
        }
        return f;
    }

    /** What ONNX Runtime itself answers for {@link #X}: the reference every API answer is compared with. */
    public static float[] direct(byte[] model) throws Exception {
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

    @Override
    public void close() {
        stopAgent();
        srv.close();
        broker.close();
    }
}
