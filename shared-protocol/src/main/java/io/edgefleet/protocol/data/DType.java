package io.edgefleet.protocol.data;

/** The NumPy element types edgefleet reads and writes, with their little-endian descriptors. */
public enum DType {
    BOOL("|b1", 1),
    INT8("|i1", 1),
    UINT8("|u1", 1),
    INT16("<i2", 2),
    INT32("<i4", 4),
    INT64("<i8", 8),
    FLOAT16("<f2", 2),
    FLOAT32("<f4", 4),
    FLOAT64("<f8", 8);

    private final String descr;
    private final int size;

    DType(String descr, int size) {
        this.descr = descr;
        this.size = size;
    }

    public String descr() {
        return descr;
    }

    public int size() {
        return size;
    }

    public boolean isFloating() {
        return this == FLOAT16 || this == FLOAT32 || this == FLOAT64;
    }

    /**
     * Parses a NumPy descriptor. Byte order: {@code <} and {@code |} are taken as is, {@code =} is native
     * (little-endian on every platform we run), {@code >} is reported so the caller can swap bytes.
     */
    static Parsed parse(String descr) {
        if (descr == null || descr.length() < 3) {
            throw new NpyFormatException("unsupported dtype descriptor '" + descr + "'");
        }
        char order = descr.charAt(0);
        String kind = descr.substring(1);
        boolean bigEndian = order == '>';
        if (order != '<' && order != '|' && order != '=' && order != '>') {
            throw new NpyFormatException("unsupported dtype descriptor '" + descr + "'");
        }
        for (DType t : values()) {
            if (t.descr.substring(1).equals(kind)) {
                return new Parsed(t, bigEndian && t.size > 1);
            }
        }
        throw new NpyFormatException("unsupported dtype '" + descr
                + "' (supported: bool, int8/16/32/64, uint8, float16/32/64)");
    }

    record Parsed(DType type, boolean swap) {
    }
}
