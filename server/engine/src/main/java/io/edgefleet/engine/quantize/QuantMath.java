package io.edgefleet.engine.quantize;

/**
 * The arithmetic of linear quantization, {@code q = clamp(round_half_even(x / scale) + zeroPoint)} and
 * {@code x' = (q - zeroPoint) * scale}, exactly as ONNX {@code QuantizeLinear}/{@code DequantizeLinear} define it,
 * so that what we compute here matches what ONNX Runtime computes from the written model.
 */
public final class QuantMath {

    private QuantMath() {
    }

    // ---------------------------------------------------------------- parameters

    /** Scale mapping {@code [-absMax, absMax]} onto the symmetric grid of {@code type}; 1 for an all-zero range. */
    public static float symmetricScale(float absMax, QuantType type) {
        requireFinite(absMax, "absMax");
        float a = Math.abs(absMax);
        // an all-zero tensor still needs a positive scale; any value quantizes it exactly
        return a == 0f ? 1f : a / type.symmetricMax();
    }

    /**
     * Asymmetric (affine) parameters covering {@code [min, max]}. The range is widened to include 0 so that zero
     * (padding, ReLU output) is represented exactly by the integer zero point.
     */
    public static QuantParams asymmetric(float min, float max, QuantType type) {
        requireFinite(min, "min");
        requireFinite(max, "max");
        if (min > max) {
            throw new IllegalArgumentException("min " + min + " > max " + max);
        }
        double lo = Math.min(min, 0f);
        double hi = Math.max(max, 0f);
        double scale = (hi - lo) / (type.qmax() - type.qmin());
        if (scale == 0 || (float) scale == 0f) {
            return QuantParams.perTensor(type, 1f, type.signed() ? 0 : type.qmin());
        }
        long zp = Math.round(type.qmin() - lo / scale);
        zp = Math.max(type.qmin(), Math.min(type.qmax(), zp));
        return QuantParams.perTensor(type, (float) scale, (int) zp);
    }

    /** Symmetric parameters for a range; the zero point is 0 (signed types only). */
    public static QuantParams symmetric(float min, float max, QuantType type) {
        float absMax = Math.max(Math.abs(min), Math.abs(max));
        return QuantParams.perTensor(type, symmetricScale(absMax, type), 0);
    }

    /** Symmetric per-tensor parameters for the values of a weight. */
    public static QuantParams symmetricPerTensor(float[] values, QuantType type) {
        return QuantParams.perTensor(type, symmetricScale(absMax(values, 0, values.length), type), 0);
    }

    /**
     * Symmetric per-channel parameters: one scale for each index along {@code axis} (for a MatMul weight
     * {@code [K, N]}, axis 1 gives one scale per output column).
     */
    public static QuantParams symmetricPerChannel(float[] values, long[] shape, int axis, QuantType type) {
        Layout l = Layout.of(values.length, shape, axis);
        float[] maxAbs = new float[(int) l.dim];
        for (int i = 0; i < values.length; i++) {
            int c = (int) ((i / l.inner) % l.dim);
            float a = Math.abs(values[i]);
            requireFinite(a, "weight value");
            if (a > maxAbs[c]) {
                maxAbs[c] = a;
            }
        }
        float[] scales = new float[(int) l.dim];
        for (int c = 0; c < l.dim; c++) {
            scales[c] = symmetricScale(maxAbs[c], type);
        }
        return new QuantParams(type, scales, new int[(int) l.dim], axis, 0);
    }

    /**
     * Symmetric block-wise parameters: along {@code axis}, every {@code blockSize} consecutive elements share one
     * scale. The scale tensor has {@link #blockedScaleShape} shape (row-major).
     */
    public static QuantParams symmetricBlockwise(float[] values, long[] shape, int axis, int blockSize, QuantType type) {
        if (blockSize < 2) {
            throw new IllegalArgumentException("block size must be >= 2, was " + blockSize);
        }
        Layout l = Layout.of(values.length, shape, axis);
        int blocks = (int) ((l.dim + blockSize - 1) / blockSize);
        float[] maxAbs = new float[(int) (l.outer * blocks * l.inner)];
        for (int i = 0; i < values.length; i++) {
            int p = l.blockParamIndex(i, blockSize, blocks);
            float a = Math.abs(values[i]);
            requireFinite(a, "weight value");
            if (a > maxAbs[p]) {
                maxAbs[p] = a;
            }
        }
        float[] scales = new float[maxAbs.length];
        for (int b = 0; b < scales.length; b++) {
            scales[b] = symmetricScale(maxAbs[b], type);
        }
        return new QuantParams(type, scales, new int[scales.length], axis, blockSize);
    }

    /**
     * Block-wise symmetric parameters whose scale minimises each block's squared rounding error rather than covering
     * its largest value: candidates shrink the abs-max range from 100% to {@code 100% - (steps - 1) * 2.5%}, clipping
     * the few largest weights of a block so that the many small ones get finer levels. At 4 bits the abs-max scale
     * leaves most weights of a block on three or four levels, so the search matters; at 8 bits it rarely changes
     * anything. The abs-max scale is always a candidate, so the error is never larger than {@link
     * #symmetricBlockwise}'s.
     */
    public static QuantParams mseBlockwise(float[] values, long[] shape, int axis, int blockSize, QuantType type,
            int steps) {
        QuantParams absMax = symmetricBlockwise(values, shape, axis, blockSize, type);
        Layout l = Layout.of(values.length, shape, axis);
        int blocks = (int) ((l.dim + blockSize - 1) / blockSize);
        int params = absMax.scales().length;
        // gather each block's values next to each other, then search each block on its own
        int[] start = new int[params + 1];
        for (int i = 0; i < values.length; i++) {
            start[l.blockParamIndex(i, blockSize, blocks) + 1]++;
        }
        for (int p = 0; p < params; p++) {
            start[p + 1] += start[p];
        }
        float[] grouped = new float[values.length];
        int[] fill = start.clone();
        for (int i = 0; i < values.length; i++) {
            grouped[fill[l.blockParamIndex(i, blockSize, blocks)]++] = values[i];
        }
        float[] scales = new float[params];
        for (int p = 0; p < params; p++) {
            scales[p] = mseScale(grouped, start[p], start[p + 1] - start[p], type, steps);
        }
        return new QuantParams(type, scales, new int[params], axis, blockSize);
    }

    /**
     * The symmetric scale for {@code len} values from {@code from} with the least squared rounding error, among
     * {@code steps} candidates shrinking from the abs-max scale (100%) in steps of 2.5%; the first wins a tie.
     */
    public static float mseScale(float[] v, int from, int len, QuantType type, int steps) {
        if (steps < 1 || steps > 40) {
            throw new IllegalArgumentException("steps must be in [1, 40], was " + steps);
        }
        float amax = 0;
        for (int i = from; i < from + len; i++) {
            float a = Math.abs(v[i]);
            requireFinite(a, "weight value");
            amax = Math.max(amax, a);
        }
        float base = symmetricScale(amax, type);
        float best = base;
        double bestErr = Double.POSITIVE_INFINITY;
        for (int step = 0; step < steps; step++) {
            float s = base * (1f - 0.025f * step);
            double e = 0;
            for (int i = from; i < from + len; i++) {
                double d = v[i] - quantize(v[i], s, 0, type) * (double) s;
                e += d * d;
            }
            if (e < bestErr) {
                bestErr = e;
                best = s;
            }
        }
        return best;
    }

    /** Shape of the scale tensor for block-wise quantization of a tensor of {@code shape}. */
    public static long[] blockedScaleShape(long[] shape, int axis, int blockSize) {
        long[] s = shape.clone();
        s[axis] = (shape[axis] + blockSize - 1) / blockSize;
        return s;
    }

    // ---------------------------------------------------------------- quantize / dequantize

    public static int quantize(float x, float scale, int zeroPoint, QuantType type) {
        // Math.rint rounds half to even, as QuantizeLinear does
        double q = Math.rint(x / scale) + zeroPoint;
        if (q < type.qmin()) {
            return type.qmin();
        }
        if (q > type.qmax()) {
            return type.qmax();
        }
        return (int) q;
    }

    public static float dequantize(int q, float scale, int zeroPoint) {
        return (q - zeroPoint) * scale;
    }

    /** Quantizes a whole tensor with per-tensor, per-channel or block-wise parameters. */
    public static int[] quantize(float[] values, long[] shape, QuantParams p) {
        int[] q = new int[values.length];
        if (p.perTensor()) {
            float s = p.scale();
            int zp = p.zeroPoint();
            for (int i = 0; i < values.length; i++) {
                q[i] = quantize(values[i], s, zp, p.type());
            }
            return q;
        }
        Layout l = Layout.of(values.length, shape, p.axis());
        int blocks = p.blocked() ? (int) ((l.dim + p.blockSize() - 1) / p.blockSize()) : 0;
        for (int i = 0; i < values.length; i++) {
            int k = p.blocked() ? l.blockParamIndex(i, p.blockSize(), blocks) : (int) ((i / l.inner) % l.dim);
            q[i] = quantize(values[i], p.scales()[k], p.zeroPoints()[k], p.type());
        }
        return q;
    }

    public static float[] dequantize(int[] q, long[] shape, QuantParams p) {
        float[] x = new float[q.length];
        if (p.perTensor()) {
            for (int i = 0; i < q.length; i++) {
                x[i] = dequantize(q[i], p.scale(), p.zeroPoint());
            }
            return x;
        }
        Layout l = Layout.of(q.length, shape, p.axis());
        int blocks = p.blocked() ? (int) ((l.dim + p.blockSize() - 1) / p.blockSize()) : 0;
        for (int i = 0; i < q.length; i++) {
            int k = p.blocked() ? l.blockParamIndex(i, p.blockSize(), blocks) : (int) ((i / l.inner) % l.dim);
            x[i] = dequantize(q[i], p.scales()[k], p.zeroPoints()[k]);
        }
        return x;
    }

    /**
     * Quantizes a bias to int32 with scale {@code inputScale * weightScale[c]}, the form ONNX Runtime's QDQ fusions
     * expect for Conv/Gemm biases. Values beyond int32 saturate.
     */
    public static int[] quantizeBias(float[] bias, float inputScale, float[] weightScales) {
        if (weightScales.length != 1 && weightScales.length != bias.length) {
            throw new IllegalArgumentException("need one weight scale or one per bias element");
        }
        int[] q = new int[bias.length];
        for (int i = 0; i < bias.length; i++) {
            double s = (double) inputScale * weightScales[weightScales.length == 1 ? 0 : i];
            double v = Math.rint(bias[i] / s);
            q[i] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
        }
        return q;
    }

    /** Bias scales {@code inputScale * weightScale[c]} as float32, the way the DequantizeLinear of the bias sees them. */
    public static float[] biasScales(float inputScale, float[] weightScales) {
        float[] s = new float[weightScales.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = inputScale * weightScales[i];
        }
        return s;
    }

    // ---------------------------------------------------------------- storage

    /** Raw bytes of 8-bit values as ONNX stores them (two's complement for int8, unsigned for uint8). */
    public static byte[] toBytes(int[] q, QuantType type) {
        if (type.bits() == 4) {
            return packInt4(q);
        }
        byte[] b = new byte[q.length];
        for (int i = 0; i < q.length; i++) {
            b[i] = (byte) q[i];
        }
        return b;
    }

    /**
     * Packs 4-bit values two per byte the way ONNX stores INT4/UINT4: element {@code 2i} in the low nibble, element
     * {@code 2i+1} in the high nibble; an odd count leaves the last high nibble zero.
     */
    public static byte[] packInt4(int[] q) {
        byte[] b = new byte[(q.length + 1) / 2];
        for (int i = 0; i < q.length; i++) {
            int nibble = q[i] & 0x0F;
            b[i >> 1] |= (byte) ((i & 1) == 0 ? nibble : nibble << 4);
        }
        return b;
    }

    /** Inverse of {@link #packInt4}. */
    public static int[] unpackInt4(byte[] packed, int count, boolean signed) {
        if (packed.length < (count + 1) / 2) {
            throw new IllegalArgumentException("need " + (count + 1) / 2 + " bytes for " + count + " nibbles");
        }
        int[] q = new int[count];
        for (int i = 0; i < count; i++) {
            int nibble = (packed[i >> 1] >> ((i & 1) * 4)) & 0x0F;
            q[i] = signed && nibble >= 8 ? nibble - 16 : nibble;
        }
        return q;
    }

    // ---------------------------------------------------------------- helpers

    static float absMax(float[] v, int from, int to) {
        float m = 0f;
        for (int i = from; i < to; i++) {
            float a = Math.abs(v[i]);
            requireFinite(a, "value");
            if (a > m) {
                m = a;
            }
        }
        return m;
    }

    private static void requireFinite(float v, String what) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException(what + " is not finite: " + v);
        }
    }

    /** Decomposes a flat row-major index around one axis: {@code i = (o * dim + a) * inner + r}. */
    private record Layout(long outer, long dim, long inner) {
        static Layout of(int count, long[] shape, int axis) {
            if (axis < 0 || axis >= shape.length) {
                throw new IllegalArgumentException("axis " + axis + " out of range for rank " + shape.length);
            }
            long n = 1;
            long inner = 1;
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] < 0) {
                    throw new IllegalArgumentException("shape must be static, got " + java.util.Arrays.toString(shape));
                }
                n *= shape[d];
                if (d > axis) {
                    inner *= shape[d];
                }
            }
            if (n != count) {
                throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " holds " + n
                        + " elements, data has " + count);
            }
            long dim = shape[axis];
            long outer = dim * inner == 0 ? 0 : n / (dim * inner);
            return new Layout(outer, dim, inner);
        }

        int blockParamIndex(int i, int blockSize, int blocks) {
            long r = i % inner;
            long a = (i / inner) % dim;
            long o = i / (inner * dim);
            return (int) ((o * blocks + a / blockSize) * inner + r);
        }
    }
}
