package io.edgefleet.engine.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HalfFloatTest {

    private static int h(float f) {
        return HalfFloat.floatToHalf(f) & 0xFFFF;
    }

    @Test
    void knownValues() {
        assertEquals(0x3C00, h(1f));
        assertEquals(0xC000, h(-2f));
        assertEquals(0x0000, h(0f));
        assertEquals(0x8000, h(-0f));
        assertEquals(0x7BFF, h(65504f)); // largest finite half
        assertEquals(0x7C00, h(Float.POSITIVE_INFINITY));
        assertEquals(0xFC00, h(Float.NEGATIVE_INFINITY));
        assertEquals(0x0001, h(0x1p-24f)); // smallest subnormal
        assertEquals(0x0400, h(0x1p-14f)); // smallest normal
        assertEquals(0x3555, h(1f / 3f));
    }

    @Test
    void roundsToNearestEven() {
        // 1 + 2^-11 lies exactly between 1.0 (even mantissa) and 1 + 2^-10 (odd): ties go to even.
        assertEquals(0x3C00, h(1f + 0x1p-11f));
        // 1 + 3 * 2^-11 lies between 1 + 2^-10 (odd) and 1 + 2^-9 (even): up.
        assertEquals(0x3C02, h(1f + 3 * 0x1p-11f));
        // Just above the tie rounds up.
        assertEquals(0x3C01, h(Math.nextUp(1f + 0x1p-11f)));
        // 65520 is the midpoint between 65504 and 65536 (= infinity after rounding): even is infinity.
        assertEquals(0x7C00, h(65520f));
        assertEquals(0x7BFF, h(Math.nextDown(65520f)));
        // Subnormal ties: 2^-25 is half the smallest subnormal -> 0 (even); 3 * 2^-25 -> 2 * 2^-24 (even).
        assertEquals(0x0000, h(0x1p-25f));
        assertEquals(0x0001, h(Math.nextUp(0x1p-25f)));
        assertEquals(0x0002, h(3 * 0x1p-25f));
        // Rounding up out of the subnormal range gives the smallest normal.
        assertEquals(0x0400, h(0x1p-14f - 0x1p-26f));
    }

    @Test
    void nanStaysNan() {
        int bits = h(Float.NaN);
        assertEquals(0x7C00, bits & 0x7C00);
        assertTrue((bits & 0x3FF) != 0);
        assertTrue(Float.isNaN(HalfFloat.halfToFloat((short) bits)));
        // A NaN whose payload sits only in the low bits must not become infinity.
        assertTrue(Float.isNaN(HalfFloat.halfToFloat(HalfFloat.floatToHalf(Float.intBitsToFloat(0x7F800001)))));
    }

    @Test
    void everyHalfSurvivesTheRoundTrip() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = HalfFloat.halfToFloat((short) bits);
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals(bits, h(f), () -> "half " + Integer.toHexString(f == f ? 0 : 1));
        }
    }

    @Test
    void randomFloatsRoundToTheNearestHalf() {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(f) || Math.abs(f) >= 65504f) {
                continue;
            }
            int got = h(f);
            double err = Math.abs((double) HalfFloat.halfToFloat((short) got) - f);
            // Neighbours of the result in magnitude must not be strictly closer.
            for (int delta : new int[] {-1, 1}) {
                int mag = (got & 0x7FFF) + delta;
                if (mag < 0 || mag > 0x7BFF) {
                    continue;
                }
                double other = Math.abs((double) HalfFloat.halfToFloat((short) ((got & 0x8000) | mag)) - f);
                assertTrue(err < other || (err == other && (got & 1) == 0),
                        "float " + f + " -> " + Integer.toHexString(got) + " but neighbour is closer or even");
            }
        }
    }

    @Test
    void bfloat16() {
        assertEquals(0x3F80, HalfFloat.floatToBFloat16(1f) & 0xFFFF);
        assertEquals(1f, HalfFloat.bfloat16ToFloat((short) 0x3F80));
        // 1 + 2^-8 is a tie between 1.0 and 1 + 2^-7: even (1.0).
        assertEquals(0x3F80, HalfFloat.floatToBFloat16(1f + 0x1p-8f) & 0xFFFF);
        assertEquals(0x3F81, HalfFloat.floatToBFloat16(1f + 3 * 0x1p-9f) & 0xFFFF);
        assertTrue(Float.isNaN(HalfFloat.roundToBFloat16(Float.intBitsToFloat(0x7F800001))));
    }
}
