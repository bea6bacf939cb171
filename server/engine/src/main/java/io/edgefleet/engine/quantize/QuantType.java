package io.edgefleet.engine.quantize;

/**
 * Integer types a quantized tensor may be stored in, with their ONNX {@code TensorProto.DataType} codes and the
 * integer range they hold.
 */
public enum QuantType {
    INT8(3, -128, 127, 8),
    UINT8(2, 0, 255, 8),
    INT4(22, -8, 7, 4),
    UINT4(21, 0, 15, 4);

    private final int onnxDataType;
    private final int qmin;
    private final int qmax;
    private final int bits;

    QuantType(int onnxDataType, int qmin, int qmax, int bits) {
        this.onnxDataType = onnxDataType;
        this.qmin = qmin;
        this.qmax = qmax;
        this.bits = bits;
    }

    public int onnxDataType() {
        return onnxDataType;
    }

    public int qmin() {
        return qmin;
    }

    public int qmax() {
        return qmax;
    }

    public int bits() {
        return bits;
    }

    public boolean signed() {
        return qmin < 0;
    }

    /**
     * Largest magnitude used by symmetric quantization. Signed types drop their most negative value (-128, -8) so
     * that the grid is symmetric around zero: that keeps {@code -w} and {@code w} exact mirrors, which integer GEMM
     * kernels and the sign-flip in QDQ fusions rely on.
     */
    public int symmetricMax() {
        if (!signed()) {
            throw new IllegalStateException(this + " is unsigned: symmetric quantization needs a signed type");
        }
        return qmax;
    }
}
