package io.edgefleet.agent.benchmark;

import io.edgefleet.agent.inference.ElementType;
import io.edgefleet.agent.inference.Tensor;
import io.edgefleet.agent.inference.TensorSpec;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Benchmark inputs from a model's declared inputs: the first axis of rank ≥ 2 inputs carries the batch, other
 * dynamic dimensions become 1; floats are standard Gaussian, integers small non-negative values (safe as indices),
 * as in the agent's synthetic feed.
 */
final class SyntheticInputs {
    static final long MAX_ELEMENTS = 16L * 1024 * 1024;

    private SyntheticInputs() {
    }

    /** @throws IllegalArgumentException when the model cannot take the batch or has an unsupported input */
    static Map<String, Tensor> forBatch(List<TensorSpec> specs, int batch, long seed) {
        Random rnd = new Random(seed);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (TensorSpec s : specs) {
            long[] shape = s.shape();
            boolean batchAxis = shape.length >= 2 && shape[0] < 0;
            if (batch > 1 && !batchAxis) {
                throw new IllegalArgumentException("input '" + s.name() + "' of shape " + Arrays.toString(s.shape())
                        + " has no dynamic batch axis; the model can only be benchmarked at batch 1");
            }
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] < 0) {
                    shape[i] = i == 0 && batchAxis ? batch : 1;
                }
            }
            long n = Tensor.elementCount(shape);
            if (n < 0 || n > MAX_ELEMENTS) {
                throw new IllegalArgumentException("input '" + s.name() + "' of shape " + Arrays.toString(shape)
                        + " is too large for a synthetic benchmark input");
            }
            out.put(s.name(), tensor(s, shape, (int) n, rnd));
        }
        return out;
    }

    private static Tensor tensor(TensorSpec s, long[] shape, int n, Random rnd) {
        ElementType t = s.type();
        return switch (t) {
            case FLOAT -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (float) rnd.nextGaussian();
                }
                yield new Tensor(t, shape, v);
            }
            case DOUBLE -> {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) {
                    v[i] = rnd.nextGaussian();
                }
                yield new Tensor(t, shape, v);
            }
            case INT64 -> {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = rnd.nextInt(4);
                }
                yield new Tensor(t, shape, v);
            }
            case INT32 -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    v[i] = rnd.nextInt(4);
                }
                yield new Tensor(t, shape, v);
            }
            case INT16 -> {
                short[] v = new short[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (short) rnd.nextInt(4);
                }
                yield new Tensor(t, shape, v);
            }
            case INT8, UINT8 -> {
                byte[] v = new byte[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (byte) rnd.nextInt(4);
                }
                yield new Tensor(t, shape, v);
            }
            case BOOL -> {
                boolean[] v = new boolean[n];
                for (int i = 0; i < n; i++) {
                    v[i] = rnd.nextBoolean();
                }
                yield new Tensor(t, shape, v);
            }
            default -> throw new IllegalArgumentException("input '" + s.name() + "' has element type " + s.typeName()
                    + ", which the benchmark's synthetic inputs do not support");
        };
    }
}
