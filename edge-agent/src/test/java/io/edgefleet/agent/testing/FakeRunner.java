package io.edgefleet.agent.testing;

import io.edgefleet.agent.inference.ElementType;
import io.edgefleet.agent.inference.LoadedModel;
import io.edgefleet.agent.inference.ModelException;
import io.edgefleet.agent.inference.ModelRunner;
import io.edgefleet.agent.inference.Tensor;
import io.edgefleet.agent.inference.TensorSpec;
import io.edgefleet.protocol.ReasonCode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A model runner without native code. A fake model file starts with {@code key=value} lines up to an
 * empty line, followed by padding: {@code load=fail}, {@code smoke=fail}, {@code latencyMs=N} (each
 * inference sleeps N ms), {@code errorEvery=N} (every Nth inference throws). Requests through
 * {@link LoadedModel#run} see one input {@code X} FLOAT [-1, 4] and get it back as {@code Y}, with the
 * same latency and errors. The update logic only
 * sees files and the {@link ModelRunner} interface, so this exercises it fully.
 */
public final class FakeRunner implements ModelRunner {
    public final List<FakeModel> loaded = new CopyOnWriteArrayList<>();
    public final AtomicInteger loadCalls = new AtomicInteger();

    /** Bytes of a fake model: the header, then {@code padding} pseudo-random bytes (so it spans several chunks). */
    public static byte[] model(String name, Map<String, String> spec, int padding) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder sb = new StringBuilder("name=").append(name).append('\n');
        spec.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        sb.append('\n');
        out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
        byte[] pad = new byte[padding];
        new Random(name.hashCode()).nextBytes(pad);
        out.writeBytes(pad);
        return out.toByteArray();
    }

    public static byte[] model(String name, int padding) {
        return model(name, Map.of(), padding);
    }

    @Override
    public LoadedModel load(Path modelFile) throws ModelException {
        loadCalls.incrementAndGet();
        Map<String, String> spec;
        try {
            spec = header(Files.readAllBytes(modelFile));
        } catch (IOException e) {
            throw new ModelException(ReasonCode.LOAD_FAILED, "cannot read " + modelFile + ": " + e.getMessage(), e);
        }
        if (!spec.containsKey("name")) {
            throw new ModelException(ReasonCode.LOAD_FAILED, "not a fake model: " + modelFile);
        }
        if ("fail".equals(spec.get("load"))) {
            throw new ModelException(ReasonCode.LOAD_FAILED, "fake load failure of " + spec.get("name"));
        }
        FakeModel m = new FakeModel(spec);
        loaded.add(m);
        return m;
    }

    static Map<String, String> header(byte[] bytes) {
        Map<String, String> spec = new java.util.LinkedHashMap<>();
        int start = 0;
        for (int i = 0; i < Math.min(bytes.length, 4096); i++) {
            if (bytes[i] == '\n') {
                String line = new String(bytes, start, i - start, StandardCharsets.UTF_8);
                if (line.isEmpty()) {
                    break;
                }
                int eq = line.indexOf('=');
                if (eq <= 0) {
                    return Map.of();
                }
                spec.put(line.substring(0, eq), line.substring(eq + 1));
                start = i + 1;
            }
        }
        return spec;
    }

    /** A fake loaded model. */
    public static final class FakeModel implements LoadedModel {
        public final Map<String, String> spec;
        public final AtomicLong inferences = new AtomicLong();
        public volatile boolean closed;

        FakeModel(Map<String, String> spec) {
            this.spec = spec;
        }

        public String name() {
            return spec.get("name");
        }

        @Override
        public void infer() throws Exception {
            if (closed) {
                throw new IllegalStateException("inference on a closed model " + name());
            }
            long n = inferences.incrementAndGet();
            long latency = Long.parseLong(spec.getOrDefault("latencyMs", "0"));
            if (latency > 0) {
                Thread.sleep(latency);
            }
            long every = Long.parseLong(spec.getOrDefault("errorEvery", "0"));
            if (every > 0 && n % every == 0) {
                throw new IllegalStateException("fake inference error");
            }
        }

        @Override
        public List<TensorSpec> inputs() {
            if (spec.containsKey("fixedBatch")) {
                return List.of(new TensorSpec("X", ElementType.FLOAT, "FLOAT", new long[] {1, 4}));
            }
            return List.of(new TensorSpec("X", ElementType.FLOAT, "FLOAT", new long[] {-1, 4}));
        }

        @Override
        public List<TensorSpec> outputs() {
            return List.of(new TensorSpec("Y", ElementType.FLOAT, "FLOAT", new long[] {-1, 4}));
        }

        @Override
        public Map<String, Tensor> run(Map<String, Tensor> inputs, Collection<String> outputNames) throws Exception {
            infer();
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String n : outputNames) {
                out.put(n, inputs.get("X"));
            }
            return out;
        }

        @Override
        public void smokeTest() throws ModelException {
            if ("fail".equals(spec.get("smoke"))) {
                throw new ModelException(ReasonCode.SMOKE_TEST_FAILED, "fake smoke failure of " + name());
            }
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
