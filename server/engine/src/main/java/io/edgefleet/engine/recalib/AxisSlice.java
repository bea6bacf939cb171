package io.edgefleet.engine.recalib;

import io.edgefleet.engine.onnx.ElemType;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Arrays;

/** Taking a subset of indices along one axis of a tensor: the primitive of channel pruning and channel mapping. */
public final class AxisSlice {
    private AxisSlice() {
    }

    /**
     * A copy of {@code t} keeping, along {@code axis}, the entries at {@code indices} (in that order).
     *
     * @throws IllegalArgumentException for an axis out of range or an index outside the dimension
     */
    public static TensorData take(TensorData t, int axis, int[] indices) {
        long[] shape = t.shape();
        if (axis < 0 || axis >= shape.length) {
            throw new IllegalArgumentException("axis " + axis + " out of range for " + t);
        }
        int dim = (int) shape[axis];
        for (int i : indices) {
            if (i < 0 || i >= dim) {
                throw new IllegalArgumentException("index " + i + " outside dimension " + dim + " of axis " + axis + " of "
                        + t);
            }
        }
        int outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= (int) shape[i];
        }
        int inner = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            inner *= (int) shape[i];
        }
        long[] newShape = shape.clone();
        newShape[axis] = indices.length;
        int n = outer * indices.length * inner;
        ElemType type = t.type();
        switch (type) {
            case FLOAT, FLOAT16, BFLOAT16 -> {
                float[] src = t.floats();
                float[] dst = new float[n];
                copy(src, dst, outer, dim, inner, indices);
                return type == ElemType.FLOAT ? TensorData.ofFloats(t.name(), newShape, dst)
                        : type == ElemType.FLOAT16 ? TensorData.ofFloat16(t.name(), newShape, dst)
                        : TensorData.ofBFloat16(t.name(), newShape, dst);
            }
            case DOUBLE -> {
                double[] dst = new double[n];
                copy(t.doubles(), dst, outer, dim, inner, indices);
                return TensorData.ofDoubles(t.name(), newShape, dst);
            }
            case INT64, UINT32, UINT64 -> {
                long[] dst = new long[n];
                copy(t.longs(), dst, outer, dim, inner, indices);
                return TensorData.ofLongs(t.name(), type, newShape, dst);
            }
            default -> {
                int[] dst = new int[n];
                copy(t.ints(), dst, outer, dim, inner, indices);
                return TensorData.ofInts(t.name(), type, newShape, dst);
            }
        }
    }

    private static void copy(Object src, Object dst, int outer, int dim, int inner, int[] idx) {
        int k = 0;
        for (int o = 0; o < outer; o++) {
            int base = o * dim * inner;
            for (int i : idx) {
                System.arraycopy(src, base + i * inner, dst, k, inner);
                k += inner;
            }
        }
    }

    /** {@code 0..n-1}. */
    public static int[] all(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }

    public static boolean isIdentity(int[] idx, int n) {
        return idx.length == n && Arrays.equals(idx, all(n));
    }
}
