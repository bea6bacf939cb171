package io.edgefleet.engine.onnx;

/** ONNX tensor element types the engine knows by name (codes of TensorProto.DataType). */
public enum ElemType {
    UNDEFINED(0, 0, "undefined"),
    FLOAT(1, 32, "float32"),
    UINT8(2, 8, "uint8"),
    INT8(3, 8, "int8"),
    UINT16(4, 16, "uint16"),
    INT16(5, 16, "int16"),
    INT32(6, 32, "int32"),
    INT64(7, 64, "int64"),
    STRING(8, 0, "string"),
    BOOL(9, 8, "bool"),
    FLOAT16(10, 16, "float16"),
    DOUBLE(11, 64, "float64"),
    UINT32(12, 32, "uint32"),
    UINT64(13, 64, "uint64"),
    COMPLEX64(14, 64, "complex64"),
    COMPLEX128(15, 128, "complex128"),
    BFLOAT16(16, 16, "bfloat16"),
    FLOAT8E4M3FN(17, 8, "float8e4m3fn"),
    FLOAT8E4M3FNUZ(18, 8, "float8e4m3fnuz"),
    FLOAT8E5M2(19, 8, "float8e5m2"),
    FLOAT8E5M2FNUZ(20, 8, "float8e5m2fnuz"),
    UINT4(21, 4, "uint4"),
    INT4(22, 4, "int4");

    private final int code;
    private final int bits;
    private final String displayName;

    ElemType(int code, int bits, String displayName) {
        this.code = code;
        this.bits = bits;
        this.displayName = displayName;
    }

    /** The TensorProto.DataType number. */
    public int code() {
        return code;
    }

    /** Storage bits per element (0 for variable-size types such as STRING). */
    public int bits() {
        return bits;
    }

    /** Lower-case name as NumPy (or ONNX for types NumPy lacks) spells it. */
    public String displayName() {
        return displayName;
    }

    public boolean isFloatingPoint() {
        return this == FLOAT || this == FLOAT16 || this == BFLOAT16 || this == DOUBLE;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, INT32, INT64, UINT32, UINT64, UINT4, INT4, BOOL -> true;
            default -> false;
        };
    }

    /** Bytes needed to store {@code count} elements (int4 packs two per byte). */
    public long storageBytes(long count) {
        return (count * bits + 7) / 8;
    }

    /** Unknown codes (a newer ONNX type) map to UNDEFINED instead of failing: the engine leaves them alone. */
    public static ElemType fromCode(int code) {
        for (ElemType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return UNDEFINED;
    }
}
