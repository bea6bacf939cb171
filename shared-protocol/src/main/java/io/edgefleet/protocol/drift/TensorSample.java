package io.edgefleet.protocol.drift;

import java.util.Arrays;

/**
 * One named tensor of one inference, as plain arrays: float tensors in {@code floats}, integer
 * tensors (token ids) in {@code longs}. The first axis is the batch when the rank is at least 2.
 */
public record TensorSample(String name, long[] shape, float[] floats, long[] longs) {

    public static TensorSample ofFloats(String name, long[] shape, float[] data) {
        return new TensorSample(name, shape, data, null);
    }

    public static TensorSample ofLongs(String name, long[] shape, long[] data) {
        return new TensorSample(name, shape, null, data);
    }

    public boolean isFloat() {
        return floats != null;
    }

    public int length() {
        return floats != null ? floats.length : longs.length;
    }

    /** Samples in the batch: the first axis when the rank is at least 2, else 1. */
    public int batch() {
        if (shape.length >= 2 && shape[0] > 0) {
            return (int) Math.min(shape[0], Math.max(1, length()));
        }
        return 1;
    }

    /** Elements of one sample. */
    public int sampleLength() {
        return length() / batch();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSample t && name.equals(t.name) && Arrays.equals(shape, t.shape)
                && Arrays.equals(floats, t.floats) && Arrays.equals(longs, t.longs);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "TensorSample[" + name + " " + Arrays.toString(shape) + (isFloat() ? " float" : " int") + "]";
    }
}
