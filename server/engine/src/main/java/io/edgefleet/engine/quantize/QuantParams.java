package io.edgefleet.engine.quantize;

import java.util.Arrays;

/**
 * Scale and zero point of a quantized tensor: per tensor ({@code axis == -1}, one scale), per channel along
 * {@code axis}, or block-wise along {@code axis} with {@code blockSize > 0} (then {@code scales} has the tensor's
 * shape with that axis divided into blocks, as ONNX {@code DequantizeLinear} opset 21 expects).
 */
public record QuantParams(QuantType type, float[] scales, int[] zeroPoints, int axis, int blockSize) {

    public QuantParams {
        if (scales.length == 0 || scales.length != zeroPoints.length) {
            throw new IllegalArgumentException("need as many zero points as scales, and at least one");
        }
        for (int i = 0; i < scales.length; i++) {
            float s = scales[i];
            if (!(s > 0) || Float.isInfinite(s)) {
                throw new IllegalArgumentException("scale " + i + " must be finite and > 0, was " + s);
            }
            if (zeroPoints[i] < type.qmin() || zeroPoints[i] > type.qmax()) {
                throw new IllegalArgumentException("zero point " + zeroPoints[i] + " outside " + type);
            }
        }
        if (axis < -1) {
            throw new IllegalArgumentException("axis must be >= 0, or -1 for per tensor");
        }
        if (axis == -1 && (scales.length != 1 || blockSize != 0)) {
            throw new IllegalArgumentException("per-tensor parameters have exactly one scale and no block size");
        }
        if (blockSize < 0) {
            throw new IllegalArgumentException("block size must be >= 0");
        }
    }

    public static QuantParams perTensor(QuantType type, float scale, int zeroPoint) {
        return new QuantParams(type, new float[] {scale}, new int[] {zeroPoint}, -1, 0);
    }

    public boolean perTensor() {
        return axis == -1;
    }

    public boolean blocked() {
        return blockSize > 0;
    }

    public float scale() {
        requirePerTensor();
        return scales[0];
    }

    public int zeroPoint() {
        requirePerTensor();
        return zeroPoints[0];
    }

    private void requirePerTensor() {
        if (!perTensor()) {
            throw new IllegalStateException("parameters are per channel/block, not per tensor");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantParams p && type == p.type && axis == p.axis && blockSize == p.blockSize
                && Arrays.equals(scales, p.scales) && Arrays.equals(zeroPoints, p.zeroPoints);
    }

    @Override
    public int hashCode() {
        return (31 * Arrays.hashCode(scales) + Arrays.hashCode(zeroPoints)) * 31 + type.hashCode() + axis * 7 + blockSize;
    }

    @Override
    public String toString() {
        String s = scales.length > 4 ? scales.length + " scales" : Arrays.toString(scales);
        return "QuantParams[" + type + ", scales=" + s + ", zp=" + (zeroPoints.length > 4 ? "..." : Arrays.toString(zeroPoints))
                + ", axis=" + axis + (blockSize > 0 ? ", block=" + blockSize : "") + "]";
    }
}
