package io.edgefleet.engine.prune;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.onnx.Graph;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import java.io.IOException;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a model spends its time in ONNX Runtime: per-kernel durations from ORT's own profiler (one intra-op thread,
 * full graph optimization, as deployed), attributed back to the model's nodes. ORT renames what it rewrites (a
 * convolution fused with its Relu and residual Add runs as {@code <value>_nchwc}); such kernels are traced back to
 * the Conv/Gemm/MatMul that produces the value. Time that cannot be attributed (layout reorders, session overhead)
 * counts as fixed. The pruning budget uses this to turn channel counts into predicted latency: MACs alone are a poor
 * guide when a layer's time per MAC depends on its shape.
 *
 * @param totalUs median wall time of one run, microseconds
 * @param nodeUs median kernel time per model node label, microseconds
 * @param fixedUs {@code totalUs} minus the attributed kernel time
 */
public record LatencyProfile(double totalUs, Map<String, Double> nodeUs, double fixedUs) {

    /**
     * @param feeds one run's inputs (their batch size is the profile's)
     * @param runs profiled runs; medians are used, so a slow first run does not distort the result
     */
    public static LatencyProfile measure(OnnxModel model, Map<String, TensorData> feeds, int runs) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Path dir;
        try {
            dir = Files.createTempDirectory("edgefleet-profile");
        } catch (IOException e) {
            throw new EngineException("cannot create a directory for the ONNX Runtime profile", e);
        }
        String file = null;
        List<Long> wall = new ArrayList<>();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(1);
            so.setInterOpNumThreads(1);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.enableProfiling(dir.resolve("profile").toString());
            try (OrtSession s = env.createSession(model.toBytes(), so)) {
                Map<String, OnnxTensor> in = new LinkedHashMap<>();
                try {
                    for (Map.Entry<String, TensorData> e : feeds.entrySet()) {
                        in.put(e.getKey(), tensor(env, e.getValue()));
                    }
                    for (int i = 0; i < runs; i++) {
                        long t0 = System.nanoTime();
                        s.run(in).close();
                        wall.add(System.nanoTime() - t0);
                    }
                } finally {
                    in.values().forEach(OnnxTensor::close);
                }
                file = s.endProfiling();
            }
            return parse(model, Path.of(file), median(wall) / 1e3);
        } catch (OrtException e) {
            throw new EngineException("ONNX Runtime profiling failed: " + e.getMessage(), e);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
                Files.deleteIfExists(dir);
            } catch (IOException ignored) {
                // a leftover temp file is harmless
            }
        }
    }

    private static OnnxTensor tensor(OrtEnvironment env, TensorData t) throws OrtException {
        return switch (t.type()) {
            case FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), t.shape());
            case DOUBLE -> OnnxTensor.createTensor(env, DoubleBuffer.wrap(t.doubles()), t.shape());
            case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs()), t.shape());
            case INT32 -> OnnxTensor.createTensor(env, IntBuffer.wrap(t.ints()), t.shape());
            default -> throw new EngineException("latency profiling feeds float32, float64, int32 or int64 inputs only, "
                    + "not " + t.type().displayName());
        };
    }

    private static double median(List<Long> v) {
        if (v.isEmpty()) {
            return 0;
        }
        List<Long> s = new ArrayList<>(v);
        Collections.sort(s);
        return s.get(s.size() / 2);
    }

    static LatencyProfile parse(OnnxModel model, Path file, double totalUs) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new EngineException("cannot read the ONNX Runtime profile " + file, e);
        }
        Map<String, List<Long>> byKernel = new LinkedHashMap<>();
        for (JsonNode e : root) {
            String name = e.path("name").asText("");
            if (e.path("cat").asText("").equals("Node") && name.endsWith("_kernel_time")) {
                byKernel.computeIfAbsent(name.substring(0, name.length() - "_kernel_time".length()),
                        k -> new ArrayList<>()).add(e.path("dur").asLong());
            }
        }
        Graph g = model.edit();
        Map<String, String> byName = new HashMap<>();
        for (var n : g.nodes()) {
            byName.put(n.getName(), Graph.label(n));
        }
        Map<String, Double> nodes = new LinkedHashMap<>();
        double attributed = 0;
        for (Map.Entry<String, List<Long>> e : byKernel.entrySet()) {
            String label = attribute(g, byName, e.getKey());
            if (label == null) {
                continue;
            }
            double us = median(e.getValue());
            nodes.merge(label, us, Double::sum);
            attributed += us;
        }
        return new LatencyProfile(totalUs, nodes, Math.max(0, totalUs - attributed));
    }

    /** The model node a kernel belongs to: by node name, else the layer producing the value it is named after. */
    private static String attribute(Graph g, Map<String, String> byName, String kernel) {
        if (byName.containsKey(kernel)) {
            return byName.get(kernel);
        }
        String value = kernel.endsWith("_nchwc") ? kernel.substring(0, kernel.length() - "_nchwc".length()) : kernel;
        var producer = g.producer(value).orElse(null);
        // Fused element-wise tails (Relu, residual Add) run inside the convolution's kernel: walk back to it.
        for (int step = 0; step < 4 && producer != null; step++) {
            String op = producer.getOpType();
            if (op.equals("Conv") || op.equals("Gemm") || op.equals("MatMul")) {
                return Graph.label(producer);
            }
            String back = null;
            for (String in : producer.getInputList()) {
                var p = g.producer(in).orElse(null);
                if (p != null && (p.getOpType().equals("Conv") || p.getOpType().equals("Gemm")
                        || p.getOpType().equals("MatMul"))) {
                    back = in;
                    break;
                }
                if (back == null && p != null) {
                    back = in;
                }
            }
            producer = back == null ? null : g.producer(back).orElse(null);
        }
        return null;
    }
}
