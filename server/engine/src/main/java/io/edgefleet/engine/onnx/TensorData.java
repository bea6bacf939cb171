package io.edgefleet.engine.onnx;

import java.util.Arrays;
import java.util.Objects;

/**
 * A named dense tensor held as a Java array, independent of the protobuf encoding.
 *
 * <p>Storage by element type: FLOAT, FLOAT16 and BFLOAT16 as {@code float[]} (16-bit values already widened, and
 * rounded to their precision on creation); DOUBLE as {@code double[]}; INT8, UINT8, INT16, UINT16, INT32, BOOL,
 * INT4 and UINT4 as {@code int[]} (one element per entry, unpacked); INT64, UINT32 and UINT64 as {@code long[]}
 * (UINT64 as raw two's complement bits). Other types (strings, complex, float8) are not represented.
 *
 * <p>Arrays are shared, not copied: factories take ownership of the array they get and accessors return the backing
 * array. Treat both as read-only; a pass that changes values creates a new TensorData.
 */
public final class TensorData {
    private final String name;
    private final ElemType type;
    private final long[] shape;
    private final Object data;

    private TensorData(String name, ElemType type, long[] shape, Object data) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = type;
        this.shape = shape.clone();
        this.data = data;
        long expected = countOf(this.shape);
        int actual = java.lang.reflect.Array.getLength(data);
        if (expected != actual) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(shape) + " ("
                    + expected + " elements) but " + actual + " values");
        }
    }

    /** Whether TensorData can hold tensors of this element type. */
    public static boolean supports(ElemType type) {
        return switch (type) {
            case FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT8, UINT8, INT16, UINT16, INT32, BOOL, INT4, UINT4, INT64, UINT32,
                    UINT64 -> true;
            default -> false;
        };
    }

    public static TensorData ofFloats(String name, long[] shape, float[] values) {
        return new TensorData(name, ElemType.FLOAT, shape, values);
    }

    /** A FLOAT16 tensor; values are rounded to half precision so that what you read back is what gets stored. */
    public static TensorData ofFloat16(String name, long[] shape, float[] values) {
        float[] rounded = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            rounded[i] = HalfFloat.roundToHalf(values[i]);
        }
        return new TensorData(name, ElemType.FLOAT16, shape, rounded);
    }

    public static TensorData ofBFloat16(String name, long[] shape, float[] values) {
        float[] rounded = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            rounded[i] = HalfFloat.roundToBFloat16(values[i]);
        }
        return new TensorData(name, ElemType.BFLOAT16, shape, rounded);
    }

    public static TensorData ofDoubles(String name, long[] shape, double[] values) {
        return new TensorData(name, ElemType.DOUBLE, shape, values);
    }

    /**
     * An integer tensor of up to 32 bits (INT8, UINT8, INT16, UINT16, INT32, BOOL, INT4, UINT4), one value per entry.
     * Values outside the type's range are refused rather than silently wrapped.
     */
    public static TensorData ofInts(String name, ElemType type, long[] shape, int[] values) {
        long min;
        long max;
        switch (type) {
            case INT8 -> { min = -128; max = 127; }
            case UINT8 -> { min = 0; max = 255; }
            case INT16 -> { min = Short.MIN_VALUE; max = Short.MAX_VALUE; }
            case UINT16 -> { min = 0; max = 65535; }
            case INT32 -> { min = Integer.MIN_VALUE; max = Integer.MAX_VALUE; }
            case BOOL -> { min = 0; max = 1; }
            case INT4 -> { min = -8; max = 7; }
            case UINT4 -> { min = 0; max = 15; }
            default -> throw new IllegalArgumentException("ofInts does not hold " + type + "; use ofLongs/ofFloats");
        }
        for (int i = 0; i < values.length; i++) {
            if (values[i] < min || values[i] > max) {
                throw new IllegalArgumentException("tensor '" + name + "': value " + values[i] + " at index " + i
                        + " is outside the " + type.displayName() + " range [" + min + ", " + max + "]");
            }
        }
        return new TensorData(name, type, shape, values);
    }

    /** Convenience for int8 weights produced as bytes. */
    public static TensorData ofInt8(String name, long[] shape, byte[] values) {
        int[] v = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            v[i] = values[i];
        }
        return new TensorData(name, ElemType.INT8, shape, v);
    }

    /** INT64, UINT32 (0..2^32-1) or UINT64 (raw bits). */
    public static TensorData ofLongs(String name, ElemType type, long[] shape, long[] values) {
        switch (type) {
            case INT64, UINT64 -> { }
            case UINT32 -> {
                for (int i = 0; i < values.length; i++) {
                    if (values[i] < 0 || values[i] > 0xFFFFFFFFL) {
                        throw new IllegalArgumentException("tensor '" + name + "': value " + values[i] + " at index " + i
                                + " is outside the uint32 range");
                    }
                }
            }
            default -> throw new IllegalArgumentException("ofLongs does not hold " + type + "; use ofInts/ofFloats");
        }
        return new TensorData(name, type, shape, values);
    }

    public static TensorData ofInt64(String name, long[] shape, long[] values) {
        return ofLongs(name, ElemType.INT64, shape, values);
    }

    /** Scalar helpers, handy for zero points and scales. */
    public static TensorData scalar(String name, float value) {
        return ofFloats(name, new long[0], new float[] {value});
    }

    public String name() {
        return name;
    }

    public ElemType type() {
        return type;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int axis) {
        return shape[axis];
    }

    public int elementCount() {
        return java.lang.reflect.Array.getLength(data);
    }

    /** Backing values of a FLOAT, FLOAT16 or BFLOAT16 tensor. Read-only. */
    public float[] floats() {
        if (data instanceof float[] f) {
            return f;
        }
        throw new IllegalStateException("tensor '" + name + "' is " + type.displayName() + ", not a float tensor");
    }

    /** Backing values of a DOUBLE tensor. Read-only. */
    public double[] doubles() {
        if (data instanceof double[] d) {
            return d;
        }
        throw new IllegalStateException("tensor '" + name + "' is " + type.displayName() + ", not float64");
    }

    /** Backing values of an INT8/UINT8/INT16/UINT16/INT32/BOOL/INT4/UINT4 tensor. Read-only. */
    public int[] ints() {
        if (data instanceof int[] i) {
            return i;
        }
        throw new IllegalStateException("tensor '" + name + "' is " + type.displayName() + ", not a <=32-bit integer");
    }

    /** Backing values of an INT64/UINT32/UINT64 tensor. Read-only. */
    public long[] longs() {
        if (data instanceof long[] l) {
            return l;
        }
        throw new IllegalStateException("tensor '" + name + "' is " + type.displayName() + ", not a 64-bit integer");
    }

    /** All values as floats whatever the type: the backing array for float storage, a converted copy otherwise. */
    public float[] toFloatArray() {
        if (data instanceof float[] f) {
            return f;
        }
        int n = elementCount();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) getDouble(i);
        }
        return out;
    }

    /** One element as a double (UINT64 above 2^63 reads as its unsigned value). */
    public double getDouble(int index) {
        if (data instanceof float[] f) {
            return f[index];
        } else if (data instanceof double[] d) {
            return d[index];
        } else if (data instanceof int[] i) {
            return i[index];
        }
        long v = ((long[]) data)[index];
        if (type == ElemType.UINT64 && v < 0) {
            return (double) (v >>> 1) * 2.0 + (v & 1);
        }
        return v;
    }

    public TensorData withName(String newName) {
        return new TensorData(newName, type, shape, data);
    }

    /** Same values, new shape with the same element count. */
    public TensorData reshape(long... newShape) {
        return new TensorData(name, type, newShape, data);
    }

    /** Rows {@code from} (inclusive) to {@code to} (exclusive) along axis 0, copied. */
    public TensorData sliceRows(int from, int to) {
        if (shape.length == 0) {
            throw new IllegalStateException("tensor '" + name + "' is a scalar and has no rows");
        }
        if (from < 0 || to > shape[0] || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of tensor '" + name + "' with "
                    + shape[0] + " rows");
        }
        long rowLen = shape[0] == 0 ? 0 : elementCount() / shape[0];
        int start = Math.toIntExact(from * rowLen);
        int end = Math.toIntExact(to * rowLen);
        long[] newShape = shape.clone();
        newShape[0] = to - from;
        Object part;
        if (data instanceof float[] f) {
            part = Arrays.copyOfRange(f, start, end);
        } else if (data instanceof double[] d) {
            part = Arrays.copyOfRange(d, start, end);
        } else if (data instanceof int[] i) {
            part = Arrays.copyOfRange(i, start, end);
        } else {
            part = Arrays.copyOfRange((long[]) data, start, end);
        }
        return new TensorData(name, type, newShape, part);
    }

    /** The given rows along axis 0, in the order given, copied (a row may repeat). */
    public TensorData selectRows(int[] rows) {
        if (shape.length == 0) {
            throw new IllegalStateException("tensor '" + name + "' is a scalar and has no rows");
        }
        int rowLen = shape[0] == 0 ? 0 : Math.toIntExact(elementCount() / shape[0]);
        long[] newShape = shape.clone();
        newShape[0] = rows.length;
        Object part = java.lang.reflect.Array.newInstance(data.getClass().getComponentType(), rows.length * rowLen);
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= shape[0]) {
                throw new IndexOutOfBoundsException("row " + rows[i] + " of tensor '" + name + "' with " + shape[0]
                        + " rows");
            }
            System.arraycopy(data, rows[i] * rowLen, part, i * rowLen, rowLen);
        }
        return new TensorData(name, type, newShape, part);
    }

    /** Number of elements a shape holds; a negative (unknown) dimension is an error here. */
    public static long countOf(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has an unknown dimension");
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    Object rawArray() {
        return data;
    }

    /** Equal when name, type, shape and every value match (floats compared by bits, so NaN equals NaN). */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TensorData t)) {
            return false;
        }
        if (!name.equals(t.name) || type != t.type || !Arrays.equals(shape, t.shape)) {
            return false;
        }
        return Arrays.deepEquals(new Object[] {data}, new Object[] {t.data});
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(shape), Arrays.deepHashCode(new Object[] {data}));
    }

    @Override
    public String toString() {
        return "TensorData[" + name + " " + type.displayName() + Arrays.toString(shape) + "]";
    }
}
