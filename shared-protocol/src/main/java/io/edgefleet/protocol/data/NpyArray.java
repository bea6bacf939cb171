package io.edgefleet.protocol.data;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An n-dimensional array as NumPy stores it: element type, C-order shape, little-endian bytes. The
 * first axis is the sample axis in edgefleet datasets.
 */
public final class NpyArray {
    private final DType dtype;
    private final long[] shape;
    private final ByteBuffer data;

    public NpyArray(DType dtype, long[] shape, ByteBuffer data) {
        this.dtype = dtype;
        this.shape = shape.clone();
        long n = elementCount(this.shape);
        if (n * dtype.size() != data.remaining()) {
            throw new NpyFormatException("array of shape " + Arrays.toString(shape) + " and dtype " + dtype
                    + " needs " + n * dtype.size() + " bytes, got " + data.remaining());
        }
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    public static NpyArray ofFloats(float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new NpyArray(DType.FLOAT32, shape, b);
    }

    public static NpyArray ofLongs(long[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return new NpyArray(DType.INT64, shape, b);
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long elementCount() {
        return elementCount(shape);
    }

    /** Number of samples: the length of the first axis (1 for a scalar). */
    public int sampleCount() {
        return shape.length == 0 ? 1 : Math.toIntExact(shape[0]);
    }

    /** Shape of one sample: the shape without its first axis. */
    public long[] sampleShape() {
        return shape.length == 0 ? new long[0] : Arrays.copyOfRange(shape, 1, shape.length);
    }

    /** Read-only little-endian view of the raw bytes. */
    public ByteBuffer bytes() {
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Samples [from, to) as a new array sharing no mutable state with this one. */
    public NpyArray slice(int from, int to) {
        if (shape.length == 0 || from < 0 || to > shape[0] || from > to) {
            throw new IndexOutOfBoundsException("slice [" + from + "," + to + ") of shape " + Arrays.toString(shape));
        }
        long per = elementCount(sampleShape()) * dtype.size();
        ByteBuffer b = data.duplicate();
        b.position(Math.toIntExact(from * per)).limit(Math.toIntExact(to * per));
        long[] s = shape.clone();
        s[0] = to - from;
        ByteBuffer copy = ByteBuffer.allocate(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(b).flip();
        return new NpyArray(dtype, s, copy);
    }

    /** All elements converted to float (integers and booleans widened, float16/64 converted). */
    public float[] toFloats() {
        int n = Math.toIntExact(elementCount());
        float[] out = new float[n];
        ByteBuffer b = bytes();
        for (int i = 0; i < n; i++) {
            out[i] = switch (dtype) {
                case BOOL, UINT8 -> b.get(i) & 0xff;
                case INT8 -> b.get(i);
                case INT16 -> b.getShort(i * 2);
                case INT32 -> b.getInt(i * 4);
                case INT64 -> b.getLong(i * 8);
                case FLOAT16 -> halfToFloat(b.getShort(i * 2));
                case FLOAT32 -> b.getFloat(i * 4);
                case FLOAT64 -> (float) b.getDouble(i * 8);
            };
        }
        return out;
    }

    /** All elements as long; refuses floating types rather than silently truncating. */
    public long[] toLongs() {
        if (dtype.isFloating()) {
            throw new NpyFormatException("array of dtype " + dtype + " cannot be read as integers");
        }
        int n = Math.toIntExact(elementCount());
        long[] out = new long[n];
        ByteBuffer b = bytes();
        for (int i = 0; i < n; i++) {
            out[i] = switch (dtype) {
                case BOOL, UINT8 -> b.get(i) & 0xff;
                case INT8 -> b.get(i);
                case INT16 -> b.getShort(i * 2);
                case INT32 -> b.getInt(i * 4);
                case INT64 -> b.getLong(i * 8);
                default -> throw new IllegalStateException();
            };
        }
        return out;
    }

    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new NpyFormatException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** IEEE 754 binary16 to binary32 (exact; every half value is representable as a float). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    @Override
    public String toString() {
        return "NpyArray[" + dtype + " " + Arrays.toString(shape) + "]";
    }
}
