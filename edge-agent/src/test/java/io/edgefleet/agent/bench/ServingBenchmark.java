package io.edgefleet.agent.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.edgefleet.agent.inference.ElementType;
import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.inference.OrtModelRunner;
import io.edgefleet.agent.inference.TensorSpec;
import io.edgefleet.agent.serving.Datatype;
import io.edgefleet.agent.serving.InferInput;
import io.edgefleet.agent.serving.InferRequest;
import io.edgefleet.agent.serving.InferenceHttpServer;
import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.serving.ServedModel;
import io.edgefleet.agent.serving.ServedModels;
import io.edgefleet.agent.telemetry.WindowRecorder;
import io.edgefleet.protocol.ModelRef;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Inference API overhead, one command (see the README's Benchmarks table):
 * <pre>./mvnw -B -q -pl edge-agent -am -Pbench test -DskipTests</pre>
 * Batch 1, in one JVM, interleaved request by request so that load on the machine hits every path alike:
 * <ol>
 *   <li>{@code direct}: ONNX Runtime called directly (tensor from a Java array, run, output copied out),
 *       what an application embedding ONNX Runtime itself would do;</li>
 *   <li>{@code in-process}: the agent's {@link InferenceService} (validation, lease, telemetry);</li>
 *   <li>{@code HTTP}: the same through {@link InferenceHttpServer} on loopback, called with the JDK's
 *       HttpClient, request body serialized beforehand, response body received as bytes
 *       ({@code HTTP+parse} also parses it with Jackson, as a client would).</li>
 * </ol>
 * Models: {@code digits-mlp.onnx} from {@code ../shared/fixtures/digits} (skipped with a message when absent;
 * {@code -Dbench.digits=DIR} to point elsewhere) and all-MiniLM-L6-v2 from the langchain4j jar
 * ({@code -Dbench.tokens=16} tokens). {@code -Dbench.n=2000} measured requests per path after
 * {@code -Dbench.warmup=500}. The goal: at most 0.3 ms added at p50.
 */
public final class ServingBenchmark {
    static final int N = Integer.getInteger("bench.n", 2000);
    static final int WARMUP = Integer.getInteger("bench.warmup", 500);
    static final int TOKENS = Integer.getInteger("bench.tokens", 16);

    private ServingBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        List<String> rows = new ArrayList<>();
        Path digits = digitsDir().resolve("digits-mlp.onnx");
        if (Files.isRegularFile(digits)) {
            rows.addAll(measure("digits-mlp", digits));
        } else {
            System.out.println("digits-mlp skipped: " + digits + " does not exist (-Dbench.digits=DIR)");
        }
        Path minilm = resource("all-minilm-l6-v2.onnx");
        if (minilm != null) {
            rows.addAll(measure("all-MiniLM-L6-v2 (" + TOKENS + " tokens)", minilm));
        } else {
            System.out.println("all-MiniLM-L6-v2 skipped: not on the classpath (run with -Pbench)");
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "edgefleet inference API benchmark (%d cores, Java %s, load average %s, batch 1, "
                        + "%d requests per path after %d warm-up, interleaved)%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), loadAverage(), N, WARMUP);
        System.out.printf(Locale.ROOT, "  %-30s %-12s %9s %9s %13s %13s%n", "model", "path", "p50 ms", "p99 ms",
                "added p50 ms", "added p99 ms");
        rows.forEach(System.out::println);
        System.out.flush();
        System.exit(0);
    }

    static Path digitsDir() {
        String override = System.getProperty("bench.digits");
        if (override != null) {
            return Path.of(override);
        }
        // From the repository root (exec:java in the reactor) or from edge-agent: the root's parent holds shared/.
        for (String up : List.of("../shared/fixtures/digits", "../../shared/fixtures/digits")) {
            Path beside = Path.of("").toAbsolutePath().resolve(up).normalize();
            if (Files.isDirectory(beside)) {
                return beside;
            }
        }
        return Path.of("/work/shared/fixtures/digits");
    }

    static Path resource(String name) throws Exception {
        try (InputStream in = ServingBenchmark.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                return null;
            }
            Path f = Files.createTempFile("bench-", "-" + name);
            f.toFile().deleteOnExit();
            Files.write(f, in.readAllBytes());
            return f;
        }
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "n/a";
        }
    }

    /** One request's inputs: random floats, or token ids / mask / type ids for an encoder. */
    static List<InferInput> inputs(List<TensorSpec> specs) {
        Random rnd = new Random(7);
        List<InferInput> out = new ArrayList<>();
        for (TensorSpec s : specs) {
            long[] shape = s.shape();
            for (int i = 0; i < shape.length; i++) {
                shape[i] = shape[i] >= 0 ? shape[i] : i == 0 ? 1 : TOKENS;
            }
            int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            if (s.type() == ElementType.FLOAT) {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (float) rnd.nextGaussian();
                }
                out.add(InferInput.fp32(s.name(), shape, v));
            } else if (s.type() == ElementType.INT64) {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = s.name().contains("mask") ? 1 : s.name().contains("type") ? 0
                            : i == 0 ? 101 : i == n - 1 ? 102 : 1000 + rnd.nextInt(20_000);
                }
                out.add(InferInput.int64(s.name(), shape, v));
            } else {
                throw new IllegalArgumentException("the benchmark feeds FP32 and INT64 inputs, not " + s);
            }
        }
        return out;
    }

    static String json(List<InferInput> inputs) {
        StringBuilder b = new StringBuilder("{\"inputs\":[");
        for (int k = 0; k < inputs.size(); k++) {
            InferInput in = inputs.get(k);
            b.append(k == 0 ? "" : ",").append("{\"name\":\"").append(in.name()).append("\",\"shape\":")
                    .append(Arrays.toString(in.shape()).replace(" ", "")).append(",\"datatype\":\"").append(in.datatype())
                    .append("\",\"data\":[");
            Object d = in.data();
            int n = java.lang.reflect.Array.getLength(d);
            for (int i = 0; i < n; i++) {
                b.append(i == 0 ? "" : ",").append(java.lang.reflect.Array.get(d, i));
            }
            b.append("]}");
        }
        return b.append("]}").toString();
    }

    /** ONNX Runtime called directly: the same session options as the agent (1 intra-op thread). */
    static final class Direct implements AutoCloseable {
        final OrtEnvironment env = OrtModelRunner.environment();
        final OrtSession session;
        final List<InferInput> inputs;

        Direct(Path model, List<InferInput> inputs) throws OrtException {
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setIntraOpNumThreads(1);
            o.setInterOpNumThreads(1);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(model.toString(), o);
            this.inputs = inputs;
        }

        float[] run() throws OrtException {
            Map<String, OnnxTensor> t = new LinkedHashMap<>();
            try {
                for (InferInput in : inputs) {
                    t.put(in.name(), in.datatype() == Datatype.FP32
                            ? OnnxTensor.createTensor(env, FloatBuffer.wrap((float[]) in.data()), in.shape())
                            : OnnxTensor.createTensor(env, LongBuffer.wrap((long[]) in.data()), in.shape()));
                }
                try (OrtSession.Result r = session.run(t)) {
                    FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
                    float[] out = new float[b.remaining()];
                    b.get(out);
                    return out;
                }
            } finally {
                t.values().forEach(OnnxTensor::close);
            }
        }

        @Override
        public void close() throws OrtException {
            session.close();
        }
    }

    static List<String> measure(String label, Path model) throws Exception {
        System.out.println("measuring " + label + " ...");
        ServedModels models = new ServedModels();
        ServedModel slot = models.add(new ServedModel());
        WindowRecorder recorder = new WindowRecorder(System.currentTimeMillis());
        InferenceService service = new InferenceService(models, recorder, 1.0);
        LoadedModel loaded = new OrtModelRunner(1, null).load(model);
        slot.swap(loaded, new ModelRef("bench", 1, "0".repeat(64)), null);
        List<InferInput> inputs = inputs(loaded.inputs());
        String firstOutput = loaded.outputs().get(0).name();
        InferRequest request = new InferRequest(null, inputs, List.of(firstOutput));
        byte[] body = json(inputs).replace("]}]}", "]}],\"outputs\":[{\"name\":\"" + firstOutput + "\"}]}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        InferenceHttpServer server = InferenceHttpServer.start(service,
                new InferenceHttpServer.Settings("127.0.0.1", 0, 16L << 20, 2), "edgefleet-agent", "bench");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort()
                        + "/v2/models/bench/infer")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        long responseBytes;
        try (Direct direct = new Direct(model, inputs)) {
            // Sanity: all paths give the same numbers.
            float[] want = direct.run();
            float[] viaApi = (float[]) service.infer("bench", request).outputs().get(0).data();
            if (!Arrays.equals(want, viaApi)) {
                throw new IllegalStateException("the API and ONNX Runtime disagree on " + label);
            }
            HttpResponse<byte[]> first = http.send(post, HttpResponse.BodyHandlers.ofByteArray());
            if (first.statusCode() != 200) {
                throw new IllegalStateException("HTTP " + first.statusCode() + ": " + new String(first.body()));
            }
            responseBytes = first.body().length;
            long[][] t = new long[4][N];
            for (int i = -WARMUP; i < N; i++) {
                for (int k = 0; k < 4; k++) {
                    int path = (k + Math.floorMod(i, 4)) % 4; // rotate the order, so no path always goes first
                    long s = System.nanoTime();
                    switch (path) {
                        case 0 -> direct.run();
                        case 1 -> service.infer("bench", request);
                        case 2 -> http.send(post, HttpResponse.BodyHandlers.ofByteArray());
                        default -> mapper.readTree(http.send(post, HttpResponse.BodyHandlers.ofByteArray()).body());
                    }
                    long e = System.nanoTime() - s;
                    if (i >= 0) {
                        t[path][i] = e;
                    }
                }
            }
            String[] names = {"direct ORT", "in-process", "HTTP", "HTTP+parse"};
            double p50d = pct(t[0], 50);
            double p99d = pct(t[0], 99);
            List<String> rows = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                double p50 = pct(t[k], 50);
                double p99 = pct(t[k], 99);
                rows.add(String.format(Locale.ROOT, "  %-30s %-12s %9.3f %9.3f %13s %13s", k == 0 ? label : "", names[k], p50, p99,
                        k == 0 ? "" : String.format(Locale.ROOT, "%+.3f", p50 - p50d),
                        k == 0 ? "" : String.format(Locale.ROOT, "%+.3f", p99 - p99d)));
            }
            rows.add(String.format(Locale.ROOT, "  %-30s request %d B, response %d B (JSON)", "", body.length, responseBytes));
            return rows;
        } finally {
            server.close();
            slot.swap(null, null, null);
        }
    }

    static double pct(long[] nanos, double p) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        int i = (int) Math.min(s.length - 1, Math.ceil(p / 100.0 * s.length) - 1);
        return s[Math.max(0, i)] / 1e6;
    }
}
