package io.edgefleet.engine.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class QuantMathTest {

    /** Squared rounding error of a blockwise-quantized tensor. */
    private static double squaredError(float[] v, long[] shape, QuantParams p) {
        float[] back = QuantMath.dequantize(QuantMath.quantize(v, shape, p), shape, p);
        double e = 0;
        for (int i = 0; i < v.length; i++) {
            e += (v[i] - back[i]) * (double) (v[i] - back[i]);
        }
        return e;
    }

    @Test
    void mseBlockwiseClipsOutlierBlocksAndNeverDoesWorseThanAbsMax() {
        Random r = new Random(3);
        long[] shape = {64, 8};
        float[] v = new float[64 * 8];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        v[5 * 8 + 2] = 9f; // one outlier in block 0 of column 2
        QuantParams absMax = QuantMath.symmetricBlockwise(v, shape, 0, 32, QuantType.INT4);
        QuantParams mse = QuantMath.mseBlockwise(v, shape, 0, 32, QuantType.INT4, 17);
        assertEquals(absMax.scales().length, mse.scales().length);
        for (int b = 0; b < mse.scales().length; b++) {
            assertTrue(mse.scales()[b] <= absMax.scales()[b] * 1.0001f, "block " + b);
            assertTrue(mse.scales()[b] >= absMax.scales()[b] * 0.599f, "block " + b);
        }
        double eAbs = squaredError(v, shape, absMax);
        double eMse = squaredError(v, shape, mse);
        assertTrue(eMse < eAbs * 0.9, eMse + " vs " + eAbs);
        // one candidate is the abs-max scale itself
        QuantParams one = QuantMath.mseBlockwise(v, shape, 0, 32, QuantType.INT4, 1);
        assertArrayEquals(absMax.scales(), one.scales());
        assertThrows(IllegalArgumentException.class, () -> QuantMath.mseBlockwise(v, shape, 0, 32, QuantType.INT4, 0));
    }

    @Test
    void symmetricScaleMapsAbsMaxToTheLargestSymmetricCode() {
        assertEquals(2.54f / 127, QuantMath.symmetricScale(-2.54f, QuantType.INT8), 1e-9);
        assertEquals(0.7f / 7, QuantMath.symmetricScale(0.7f, QuantType.INT4), 1e-9);
        assertEquals(1f, QuantMath.symmetricScale(0f, QuantType.INT8)); // all-zero tensor still gets a valid scale
        assertThrows(IllegalStateException.class, () -> QuantMath.symmetricScale(1f, QuantType.UINT8));
        assertThrows(IllegalArgumentException.class, () -> QuantMath.symmetricScale(Float.NaN, QuantType.INT8));
    }

    @Test
    void roundsHalfToEvenAndSaturatesLikeQuantizeLinear() {
        assertEquals(2, QuantMath.quantize(2.5f, 1f, 0, QuantType.INT8));
        assertEquals(4, QuantMath.quantize(3.5f, 1f, 0, QuantType.INT8));
        assertEquals(-2, QuantMath.quantize(-2.5f, 1f, 0, QuantType.INT8));
        assertEquals(127, QuantMath.quantize(1000f, 1f, 0, QuantType.INT8));
        assertEquals(-128, QuantMath.quantize(-1000f, 1f, 0, QuantType.INT8));
        assertEquals(0, QuantMath.quantize(-5f, 1f, 3, QuantType.UINT8));
        assertEquals(7, QuantMath.quantize(100f, 1f, 0, QuantType.INT4));
        assertEquals(-8, QuantMath.quantize(-100f, 1f, 0, QuantType.INT4));
    }

    @Test
    void asymmetricRangeAlwaysContainsZeroExactly() {
        QuantParams p = QuantMath.asymmetric(0.5f, 3.0f, QuantType.UINT8); // range widened to [0, 3]
        assertEquals(3.0f / 255, p.scale(), 1e-7);
        assertEquals(0, p.zeroPoint());
        assertEquals(0f, QuantMath.dequantize(QuantMath.quantize(0f, p.scale(), p.zeroPoint(), QuantType.UINT8),
                p.scale(), p.zeroPoint()));

        QuantParams q = QuantMath.asymmetric(-1f, 3f, QuantType.UINT8);
        assertEquals(4f / 255, q.scale(), 1e-7);
        assertEquals(64, q.zeroPoint()); // round(0 - (-1) / (4/255)) = round(63.75)
        assertEquals(0f, QuantMath.dequantize(q.zeroPoint(), q.scale(), q.zeroPoint()));

        QuantParams neg = QuantMath.asymmetric(-4f, -1f, QuantType.INT8); // widened to [-4, 0]
        assertEquals(127, neg.zeroPoint());
        QuantParams zero = QuantMath.asymmetric(0f, 0f, QuantType.UINT8);
        assertEquals(1f, zero.scale());
        assertThrows(IllegalArgumentException.class, () -> QuantMath.asymmetric(2f, 1f, QuantType.UINT8));
    }

    @Test
    void asymmetricRoundTripErrorIsAtMostHalfAStep() {
        Random r = new Random(7);
        QuantParams p = QuantMath.asymmetric(-0.3f, 5.1f, QuantType.UINT8);
        for (int i = 0; i < 10_000; i++) {
            float x = -0.3f + r.nextFloat() * 5.4f;
            int q = QuantMath.quantize(x, p.scale(), p.zeroPoint(), QuantType.UINT8);
            float back = QuantMath.dequantize(q, p.scale(), p.zeroPoint());
            assertTrue(Math.abs(back - x) <= p.scale() / 2 + 1e-6, x + " -> " + back);
        }
    }

    @Test
    void perChannelGivesEachOutputColumnItsOwnScale() {
        // MatMul weight [K=2, N=3]; axis 1 = output columns
        float[] w = {1f, -20f, 0f, -0.5f, 10f, 0f};
        long[] shape = {2, 3};
        QuantParams p = QuantMath.symmetricPerChannel(w, shape, 1, QuantType.INT8);
        assertArrayEquals(new float[] {1f / 127, 20f / 127, 1f}, p.scales(), 1e-7f);
        int[] q = QuantMath.quantize(w, shape, p);
        assertArrayEquals(new int[] {127, -127, 0, -64, 64, 0}, q); // -0.5*127 = -63.5 -> -64 (half to even)
        float[] back = QuantMath.dequantize(q, shape, p);
        for (int i = 0; i < w.length; i++) {
            assertEquals(w[i], back[i], p.scales()[i % 3] / 2 + 1e-6);
        }
        // axis 0 on the same data: one scale per row
        QuantParams rows = QuantMath.symmetricPerChannel(w, shape, 0, QuantType.INT8);
        assertArrayEquals(new float[] {20f / 127, 10f / 127}, rows.scales(), 1e-7f);
        assertThrows(IllegalArgumentException.class, () -> QuantMath.symmetricPerChannel(w, new long[] {4, 2}, 2, QuantType.INT8));
        assertThrows(IllegalArgumentException.class, () -> QuantMath.symmetricPerChannel(w, new long[] {4, 2}, 0, QuantType.INT8));
    }

    @Test
    void blockwiseInt4SharesOneScalePerBlockAlongTheAxis() {
        // weight [K=5, N=2], blocks of 2 along K -> scale shape [3, 2]; the last block is partial
        float[] w = {
            0.7f, -1f,
            0.1f, 0.3f,
            -0.35f, 2f,
            0.2f, 0f,
            14f, 0f};
        long[] shape = {5, 2};
        QuantParams p = QuantMath.symmetricBlockwise(w, shape, 0, 2, QuantType.INT4);
        assertArrayEquals(new long[] {3, 2}, QuantMath.blockedScaleShape(shape, 0, 2));
        assertArrayEquals(new float[] {0.1f, 1f / 7, 0.05f, 2f / 7, 2f, 1f}, p.scales(), 1e-7f);
        int[] q = QuantMath.quantize(w, shape, p);
        assertArrayEquals(new int[] {7, -7, 1, 2, -7, 7, 4, 0, 7, 0}, q);
        float[] back = QuantMath.dequantize(q, shape, p);
        assertEquals(14f, back[8], 1e-6);
        assertEquals(0.2f, back[6], 1e-6);
        assertThrows(IllegalArgumentException.class, () -> QuantMath.symmetricBlockwise(w, shape, 0, 1, QuantType.INT4));
    }

    @Test
    void int4PacksLowNibbleFirstLikeOnnx() {
        int[] q = {1, -1, 7, -8, 3};
        byte[] packed = QuantMath.packInt4(q);
        assertArrayEquals(new byte[] {(byte) 0xF1, (byte) 0x87, 0x03}, packed);
        assertArrayEquals(q, QuantMath.unpackInt4(packed, 5, true));
        assertArrayEquals(new int[] {1, 15, 7, 8, 3}, QuantMath.unpackInt4(packed, 5, false));
        assertThrows(IllegalArgumentException.class, () -> QuantMath.unpackInt4(packed, 7, true));
    }

    @Test
    void biasIsInt32WithInputTimesWeightScale() {
        int[] q = QuantMath.quantizeBias(new float[] {1f, -0.5f}, 0.1f, new float[] {0.01f, 0.02f});
        assertArrayEquals(new int[] {1000, -250}, q);
        int[] sat = QuantMath.quantizeBias(new float[] {1e10f}, 1e-3f, new float[] {1e-3f});
        assertEquals(Integer.MAX_VALUE, sat[0]);
    }

    @Test
    void paramsRejectBadScalesAndZeroPoints() {
        assertThrows(IllegalArgumentException.class, () -> QuantParams.perTensor(QuantType.INT8, 0f, 0));
        assertThrows(IllegalArgumentException.class, () -> QuantParams.perTensor(QuantType.INT8, Float.NaN, 0));
        assertThrows(IllegalArgumentException.class, () -> QuantParams.perTensor(QuantType.UINT8, 1f, 256));
        assertThrows(IllegalArgumentException.class,
                () -> new QuantParams(QuantType.INT8, new float[] {1f, 1f}, new int[] {0, 0}, -1, 0));
    }
}
