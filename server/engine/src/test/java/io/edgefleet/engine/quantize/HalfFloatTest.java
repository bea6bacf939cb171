package io.edgefleet.engine.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HalfFloatTest {

    @Test
    void knownEncodings() {
        assertEquals((short) 0x3C00, HalfFloat.fromFloat(1f));
        assertEquals((short) 0xC000, HalfFloat.fromFloat(-2f));
        assertEquals((short) 0x7BFF, HalfFloat.fromFloat(65504f));
        assertEquals((short) 0x7C00, HalfFloat.fromFloat(65520f)); // rounds up past max -> infinity
        assertEquals((short) 0x7BFF, HalfFloat.fromFloat(65519f));
        assertEquals((short) 0x0001, HalfFloat.fromFloat(0x1p-24f)); // smallest subnormal
        assertEquals((short) 0x0000, HalfFloat.fromFloat(0x1p-25f)); // tie to even -> 0
        assertEquals((short) 0x0001, HalfFloat.fromFloat(0x1.8p-25f));
        assertEquals((short) 0x0400, HalfFloat.fromFloat(0x1p-14f)); // smallest normal
        assertEquals((short) 0x8000, HalfFloat.fromFloat(-0f));
        assertEquals((short) 0xFC00, HalfFloat.fromFloat(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(HalfFloat.toFloat(HalfFloat.fromFloat(Float.NaN))));
        // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties to even -> 1
        assertEquals((short) 0x3C00, HalfFloat.fromFloat(1f + 0x1p-11f));
        assertEquals((short) 0x3C02, HalfFloat.fromFloat(1f + 3 * 0x1p-11f));
    }

    @Test
    void everyHalfRoundTripsExactly() {
        for (int h = 0; h < 0x10000; h++) {
            float f = HalfFloat.toFloat((short) h);
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals((short) h, HalfFloat.fromFloat(f), "half 0x" + Integer.toHexString(h));
        }
    }

    @Test
    void roundingErrorIsWithinHalfAnUlp() {
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < 100_000; i++) {
            float f = (float) ((r.nextDouble() * 2 - 1) * Math.pow(2, r.nextInt(30) - 15));
            float back = HalfFloat.toFloat(HalfFloat.fromFloat(f));
            float ulp = Math.max(Math.ulp(back) * 8192, 0x1p-24f);
            assertTrue(Math.abs(back - f) <= ulp / 2 + 1e-12, f + " -> " + back);
        }
    }

    @Test
    void rawBytesAreLittleEndian() {
        byte[] raw = HalfFloat.toRawBytes(new float[] {1f, -2f});
        assertArrayEquals(new byte[] {0x00, 0x3C, 0x00, (byte) 0xC0}, raw);
        assertArrayEquals(new float[] {1f, -2f}, HalfFloat.fromRawBytes(raw));
    }
}
