package io.edgefleet.engine.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * TensorProto to and from {@link TensorData}. Reads both encodings ONNX allows (little-endian {@code raw_data} and
 * the typed repeated fields); writes {@code raw_data}, which is what ONNX Runtime and the Python tools produce and
 * the most compact on the wire.
 */
public final class Tensors {
    private Tensors() {}

    /** Whether the tensor's bytes live outside the model file. */
    public static boolean isExternal(TensorProto t) {
        return t.hasDataLocation() && t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
    }

    public static ElemType elemType(TensorProto t) {
        return ElemType.fromCode(t.getDataType());
    }

    public static long[] dims(TensorProto t) {
        long[] dims = new long[t.getDimsCount()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = t.getDims(i);
        }
        return dims;
    }

    /**
     * Decodes a tensor.
     *
     * @throws OnnxFormatException EXTERNAL_DATA for tensors stored outside the file, INVALID_MODEL when the data does
     *     not match the declared shape
     * @throws UnsupportedOperationException for element types TensorData does not hold (strings, complex, float8)
     */
    public static TensorData fromProto(TensorProto t) {
        String name = t.getName();
        if (isExternal(t)) {
            throw new OnnxFormatException(OnnxFormatException.Reason.EXTERNAL_DATA,
                    "tensor '" + name + "' keeps its data in an external file; save the model with weights inline "
                            + "(onnx.save_model(model, path, save_as_external_data=False))");
        }
        if (t.hasSegment()) {
            throw new OnnxFormatException(OnnxFormatException.Reason.INVALID_MODEL,
                    "tensor '" + name + "' is a segment of a larger tensor, which ONNX Runtime does not load either");
        }
        ElemType type = elemType(t);
        if (!TensorData.supports(type)) {
            throw new UnsupportedOperationException("tensor '" + name + "' has element type " + type.displayName()
                    + " (code " + t.getDataType() + "), which the engine does not decode");
        }
        long[] dims = dims(t);
        long count;
        try {
            count = TensorData.countOf(dims);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw invalid(name, "has invalid dims " + java.util.Arrays.toString(dims));
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw invalid(name, "has " + count + " elements, more than a Java array holds");
        }
        int n = (int) count;
        try {
            if (t.hasRawData()) {
                return fromRaw(name, type, dims, n, t.getRawData());
            }
            return fromTyped(t, type, dims, n);
        } catch (IllegalArgumentException e) {
            throw invalid(name, e.getMessage());
        }
    }

    private static OnnxFormatException invalid(String name, String what) {
        return new OnnxFormatException(OnnxFormatException.Reason.INVALID_MODEL, "tensor '" + name + "' " + what);
    }

    private static TensorData fromRaw(String name, ElemType type, long[] dims, int n, ByteString raw) {
        long expectedBytes = type.storageBytes(n);
        if (raw.size() != expectedBytes) {
            throw new IllegalArgumentException("has " + raw.size() + " bytes of raw_data, expected " + expectedBytes
                    + " for " + n + " " + type.displayName() + " elements");
        }
        ByteBuffer buf = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case FLOAT -> {
                float[] v = new float[n];
                buf.asFloatBuffer().get(v);
                return TensorData.ofFloats(name, dims, v);
            }
            case FLOAT16, BFLOAT16 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    short bits = buf.getShort();
                    v[i] = type == ElemType.FLOAT16 ? HalfFloat.halfToFloat(bits) : HalfFloat.bfloat16ToFloat(bits);
                }
                return type == ElemType.FLOAT16 ? TensorData.ofFloat16(name, dims, v) : TensorData.ofBFloat16(name, dims, v);
            }
            case DOUBLE -> {
                double[] v = new double[n];
                buf.asDoubleBuffer().get(v);
                return TensorData.ofDoubles(name, dims, v);
            }
            case INT8, UINT8, BOOL -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    byte b = buf.get();
                    v[i] = type == ElemType.INT8 ? b : b & 0xFF;
                }
                return TensorData.ofInts(name, type, dims, v);
            }
            case INT16, UINT16 -> {
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    short s = buf.getShort();
                    v[i] = type == ElemType.INT16 ? s : s & 0xFFFF;
                }
                return TensorData.ofInts(name, type, dims, v);
            }
            case INT32 -> {
                int[] v = new int[n];
                buf.asIntBuffer().get(v);
                return TensorData.ofInts(name, type, dims, v);
            }
            case INT4, UINT4 -> {
                byte[] packed = raw.toByteArray();
                return TensorData.ofInts(name, type, dims, unpackInt4(packed, n, type == ElemType.INT4));
            }
            case INT64, UINT64 -> {
                long[] v = new long[n];
                buf.asLongBuffer().get(v);
                return TensorData.ofLongs(name, type, dims, v);
            }
            case UINT32 -> {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = buf.getInt() & 0xFFFFFFFFL;
                }
                return TensorData.ofLongs(name, type, dims, v);
            }
            default -> throw new IllegalStateException("unreachable: " + type);
        }
    }

    private static TensorData fromTyped(TensorProto t, ElemType type, long[] dims, int n) {
        String name = t.getName();
        switch (type) {
            case FLOAT -> {
                checkCount(t.getFloatDataCount(), n, "float_data");
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = t.getFloatData(i);
                }
                return TensorData.ofFloats(name, dims, v);
            }
            case DOUBLE -> {
                checkCount(t.getDoubleDataCount(), n, "double_data");
                double[] v = new double[n];
                for (int i = 0; i < n; i++) {
                    v[i] = t.getDoubleData(i);
                }
                return TensorData.ofDoubles(name, dims, v);
            }
            case FLOAT16, BFLOAT16 -> {
                // 16-bit floats travel as their bit patterns in int32_data.
                checkCount(t.getInt32DataCount(), n, "int32_data");
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    short bits = (short) t.getInt32Data(i);
                    v[i] = type == ElemType.FLOAT16 ? HalfFloat.halfToFloat(bits) : HalfFloat.bfloat16ToFloat(bits);
                }
                return type == ElemType.FLOAT16 ? TensorData.ofFloat16(name, dims, v) : TensorData.ofBFloat16(name, dims, v);
            }
            case INT8, UINT8, INT16, UINT16, INT32, BOOL -> {
                checkCount(t.getInt32DataCount(), n, "int32_data");
                int[] v = new int[n];
                for (int i = 0; i < n; i++) {
                    v[i] = t.getInt32Data(i);
                }
                return TensorData.ofInts(name, type, dims, v);
            }
            case INT4, UINT4 -> {
                // int32_data holds one packed byte (two 4-bit values) per entry.
                int packedCount = (n + 1) / 2;
                checkCount(t.getInt32DataCount(), packedCount, "int32_data (packed pairs)");
                byte[] packed = new byte[packedCount];
                for (int i = 0; i < packedCount; i++) {
                    packed[i] = (byte) t.getInt32Data(i);
                }
                return TensorData.ofInts(name, type, dims, unpackInt4(packed, n, type == ElemType.INT4));
            }
            case INT64 -> {
                checkCount(t.getInt64DataCount(), n, "int64_data");
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = t.getInt64Data(i);
                }
                return TensorData.ofLongs(name, type, dims, v);
            }
            case UINT32, UINT64 -> {
                checkCount(t.getUint64DataCount(), n, "uint64_data");
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = t.getUint64Data(i);
                }
                return TensorData.ofLongs(name, type, dims, v);
            }
            default -> throw new IllegalStateException("unreachable: " + type);
        }
    }

    private static void checkCount(int actual, int expected, String field) {
        if (actual != expected) {
            throw new IllegalArgumentException("has " + actual + " values in " + field + ", expected " + expected);
        }
    }

    /** Encodes a tensor with little-endian raw_data. */
    public static TensorProto toProto(TensorData t) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(t.name()).setDataType(t.type().code());
        for (long d : t.shape()) {
            b.addDims(d);
        }
        b.setRawData(ByteString.copyFrom(rawBytes(t)));
        return b.build();
    }

    /** Encodes a tensor into the typed repeated fields instead of raw_data (some tools emit this form). */
    public static TensorProto toTypedProto(TensorData t) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(t.name()).setDataType(t.type().code());
        for (long d : t.shape()) {
            b.addDims(d);
        }
        switch (t.type()) {
            case FLOAT -> {
                for (float f : t.floats()) {
                    b.addFloatData(f);
                }
            }
            case DOUBLE -> {
                for (double d : t.doubles()) {
                    b.addDoubleData(d);
                }
            }
            case FLOAT16 -> {
                for (float f : t.floats()) {
                    b.addInt32Data(HalfFloat.floatToHalf(f) & 0xFFFF);
                }
            }
            case BFLOAT16 -> {
                for (float f : t.floats()) {
                    b.addInt32Data(HalfFloat.floatToBFloat16(f) & 0xFFFF);
                }
            }
            case INT8, UINT8, INT16, UINT16, INT32, BOOL -> {
                for (int v : t.ints()) {
                    b.addInt32Data(v);
                }
            }
            case INT4, UINT4 -> {
                for (byte packed : packInt4(t.ints())) {
                    b.addInt32Data(packed & 0xFF);
                }
            }
            case INT64 -> {
                for (long v : t.longs()) {
                    b.addInt64Data(v);
                }
            }
            case UINT32, UINT64 -> {
                for (long v : t.longs()) {
                    b.addUint64Data(v);
                }
            }
            default -> throw new IllegalStateException("unreachable: " + t.type());
        }
        return b.build();
    }

    /** The little-endian bytes ONNX keeps in raw_data for this tensor. */
    public static byte[] rawBytes(TensorData t) {
        int n = t.elementCount();
        ElemType type = t.type();
        if (type == ElemType.INT4 || type == ElemType.UINT4) {
            return packInt4(t.ints());
        }
        ByteBuffer buf = ByteBuffer.allocate((int) type.storageBytes(n)).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case FLOAT -> buf.asFloatBuffer().put(t.floats());
            case DOUBLE -> buf.asDoubleBuffer().put(t.doubles());
            case FLOAT16 -> {
                for (float f : t.floats()) {
                    buf.putShort(HalfFloat.floatToHalf(f));
                }
            }
            case BFLOAT16 -> {
                for (float f : t.floats()) {
                    buf.putShort(HalfFloat.floatToBFloat16(f));
                }
            }
            case INT8, UINT8, BOOL -> {
                for (int v : t.ints()) {
                    buf.put((byte) v);
                }
            }
            case INT16, UINT16 -> {
                for (int v : t.ints()) {
                    buf.putShort((short) v);
                }
            }
            case INT32 -> buf.asIntBuffer().put(t.ints());
            case INT64, UINT64 -> buf.asLongBuffer().put(t.longs());
            case UINT32 -> {
                for (long v : t.longs()) {
                    buf.putInt((int) v);
                }
            }
            default -> throw new IllegalStateException("unreachable: " + type);
        }
        return buf.array();
    }

    /**
     * Packs 4-bit values two per byte as ONNX stores INT4/UINT4: element 2i in the low nibble, 2i+1 in the high
     * nibble; an odd count leaves the last high nibble zero.
     */
    public static byte[] packInt4(int[] values) {
        byte[] out = new byte[(values.length + 1) / 2];
        for (int i = 0; i < values.length; i++) {
            int nibble = values[i] & 0x0F;
            if ((i & 1) == 0) {
                out[i >> 1] = (byte) nibble;
            } else {
                out[i >> 1] = (byte) (out[i >> 1] | (nibble << 4));
            }
        }
        return out;
    }

    /** Inverse of {@link #packInt4}; {@code signed} sign-extends each nibble (INT4) instead of reading 0..15 (UINT4). */
    public static int[] unpackInt4(byte[] packed, int count, boolean signed) {
        if (packed.length != (count + 1) / 2) {
            throw new IllegalArgumentException("has " + packed.length + " packed bytes for " + count + " 4-bit values");
        }
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            int nibble = (i & 1) == 0 ? packed[i >> 1] & 0x0F : (packed[i >> 1] >> 4) & 0x0F;
            out[i] = signed && nibble >= 8 ? nibble - 16 : nibble;
        }
        return out;
    }

    /** Float tensor shortcut for builders and passes. */
    public static TensorProto floats(String name, long[] shape, float... values) {
        return toProto(TensorData.ofFloats(name, shape, values));
    }

    public static TensorProto int64s(String name, long[] shape, long... values) {
        return toProto(TensorData.ofInt64(name, shape, values));
    }
}
