package io.edgefleet.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorsTest {

    private static List<TensorData> samples() {
        long[] s = {2, 3};
        return List.of(
                TensorData.ofFloats("f", s, new float[] {1.5f, -2f, 0f, Float.MAX_VALUE, -0f, 3e-8f}),
                TensorData.ofFloat16("h", s, new float[] {1f, -2.5f, 65504f, 0.1f, 1e-7f, -0f}),
                TensorData.ofBFloat16("bf", s, new float[] {1f, -2.5f, 3e38f, 0.1f, 1e-7f, 7f}),
                TensorData.ofDoubles("d", s, new double[] {1e300, -1, 0, 0.5, 2, 3}),
                TensorData.ofInts("i8", ElemType.INT8, s, new int[] {-128, 127, 0, -1, 5, 6}),
                TensorData.ofInts("u8", ElemType.UINT8, s, new int[] {0, 255, 128, 1, 2, 3}),
                TensorData.ofInts("i16", ElemType.INT16, s, new int[] {-32768, 32767, 0, -1, 5, 6}),
                TensorData.ofInts("u16", ElemType.UINT16, s, new int[] {0, 65535, 1, 2, 3, 4}),
                TensorData.ofInts("i32", ElemType.INT32, s, new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 1, 2, 3}),
                TensorData.ofInts("b", ElemType.BOOL, s, new int[] {0, 1, 1, 0, 1, 0}),
                TensorData.ofInts("i4", ElemType.INT4, new long[] {5}, new int[] {-8, 7, 0, -1, 3}),
                TensorData.ofInts("u4", ElemType.UINT4, new long[] {5}, new int[] {0, 15, 8, 1, 3}),
                TensorData.ofInt64("i64", s, new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0, -1, 1, 2}),
                TensorData.ofLongs("u32", ElemType.UINT32, s, new long[] {0, 0xFFFFFFFFL, 1, 2, 3, 4}),
                TensorData.ofLongs("u64", ElemType.UINT64, s, new long[] {-1, 0, 1, 2, 3, 4}),
                TensorData.ofFloats("scalar", new long[0], new float[] {42f}),
                TensorData.ofFloats("empty", new long[] {0, 4}, new float[0]));
    }

    @Test
    void rawAndTypedEncodingsRoundTrip() throws Exception {
        for (TensorData t : samples()) {
            TensorProto raw = Tensors.toProto(t);
            assertTrue(raw.hasRawData(), t.name());
            assertEquals(t, Tensors.fromProto(raw), "raw " + t.name());
            TensorProto typed = Tensors.toTypedProto(t);
            assertTrue(!typed.hasRawData(), t.name());
            assertEquals(t, Tensors.fromProto(typed), "typed " + t.name());
            assertEquals(t, Tensors.fromProto(TensorProto.parseFrom(raw.toByteArray())), "wire " + t.name());
        }
    }

    @Test
    void rawDataIsLittleEndian() {
        TensorProto p = Tensors.toProto(TensorData.ofInts("x", ElemType.INT32, new long[] {1}, new int[] {0x01020304}));
        assertArrayEquals(new byte[] {4, 3, 2, 1}, p.getRawData().toByteArray());
        TensorProto h = Tensors.toProto(TensorData.ofFloat16("h", new long[] {1}, new float[] {1f}));
        assertArrayEquals(new byte[] {0x00, 0x3C}, h.getRawData().toByteArray());
    }

    @Test
    void int4PacksLowNibbleFirst() {
        assertArrayEquals(new byte[] {(byte) 0xF1, 0x07}, Tensors.packInt4(new int[] {1, -1, 7}));
        assertArrayEquals(new int[] {1, -1, 7}, Tensors.unpackInt4(new byte[] {(byte) 0xF1, 0x07}, 3, true));
        assertArrayEquals(new int[] {1, 15, 7}, Tensors.unpackInt4(new byte[] {(byte) 0xF1, 0x07}, 3, false));
        TensorProto p = Tensors.toProto(TensorData.ofInts("w", ElemType.INT4, new long[] {3}, new int[] {1, -1, 7}));
        assertEquals(2, p.getRawData().size());
        assertEquals(ElemType.INT4.code(), p.getDataType());
    }

    @Test
    void sizeMismatchIsAnInvalidModel() {
        TensorProto bad = TensorProto.newBuilder().setName("w").setDataType(ElemType.FLOAT.code()).addDims(4)
                .setRawData(ByteString.copyFrom(new byte[12])).build();
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> Tensors.fromProto(bad));
        assertEquals(OnnxFormatException.Reason.INVALID_MODEL, e.reason());
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("16"), e.getMessage());

        TensorProto typed = TensorProto.newBuilder().setName("v").setDataType(ElemType.FLOAT.code()).addDims(3)
                .addFloatData(1f).build();
        assertThrows(OnnxFormatException.class, () -> Tensors.fromProto(typed));

        TensorProto negative = TensorProto.newBuilder().setName("n").setDataType(ElemType.FLOAT.code()).addDims(-2)
                .build();
        assertThrows(OnnxFormatException.class, () -> Tensors.fromProto(negative));

        TensorProto outOfRange = TensorProto.newBuilder().setName("q").setDataType(ElemType.INT8.code()).addDims(1)
                .addInt32Data(300).build();
        assertThrows(OnnxFormatException.class, () -> Tensors.fromProto(outOfRange));
    }

    @Test
    void externalDataIsRefusedWithAHint() {
        TensorProto ext = TensorProto.newBuilder().setName("big").setDataType(ElemType.FLOAT.code()).addDims(4)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL).build();
        OnnxFormatException e = assertThrows(OnnxFormatException.class, () -> Tensors.fromProto(ext));
        assertEquals(OnnxFormatException.Reason.EXTERNAL_DATA, e.reason());
        assertTrue(e.getMessage().contains("inline"), e.getMessage());
    }

    @Test
    void valuesOutsideTheTypeAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> TensorData.ofInts("x", ElemType.INT4, new long[] {1}, new int[] {8}));
        assertThrows(IllegalArgumentException.class,
                () -> TensorData.ofInts("x", ElemType.UINT8, new long[] {1}, new int[] {-1}));
        assertThrows(IllegalArgumentException.class,
                () -> TensorData.ofFloats("x", new long[] {2, 2}, new float[3]));
        assertThrows(IllegalArgumentException.class,
                () -> TensorData.ofLongs("x", ElemType.UINT32, new long[] {1}, new long[] {-1}));
    }

    @Test
    void stringTensorsAreNotDecoded() {
        TensorProto s = TensorProto.newBuilder().setName("s").setDataType(ElemType.STRING.code()).addDims(1)
                .addStringData(ByteString.copyFromUtf8("a")).build();
        assertThrows(UnsupportedOperationException.class, () -> Tensors.fromProto(s));
    }

    @Test
    void sliceReshapeAndConversions() {
        TensorData t = TensorData.ofFloats("x", new long[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6});
        TensorData rows = t.sliceRows(1, 3);
        assertArrayEquals(new long[] {2, 2}, rows.shape());
        assertArrayEquals(new float[] {3, 4, 5, 6}, rows.floats());
        assertArrayEquals(new long[] {6}, t.reshape(6).shape());
        TensorData u64 = TensorData.ofLongs("u", ElemType.UINT64, new long[] {1}, new long[] {-1});
        assertEquals(18446744073709551615.0, u64.getDouble(0));
        TensorData i8 = TensorData.ofInts("q", ElemType.INT8, new long[] {2}, new int[] {-3, 4});
        assertArrayEquals(new float[] {-3f, 4f}, i8.toFloatArray());
        assertThrows(IllegalStateException.class, i8::floats);
    }
}
