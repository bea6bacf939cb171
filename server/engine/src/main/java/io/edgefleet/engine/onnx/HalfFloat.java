package io.edgefleet.engine.onnx;

/**
 * IEEE 754 binary16 and bfloat16 conversions. {@code Float.floatToFloat16} only exists from Java 20; the engine
 * targets 17, so the bit work is done here. Float to half rounds to nearest, ties to even, like the hardware does.
 */
public final class HalfFloat {
    private HalfFloat() {}

    /** Float to IEEE half bits, round-to-nearest-even; overflow gives infinity, NaN stays NaN. */
    public static short floatToHalf(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        if (exp == 0xFF) {
            if (mant == 0) {
                return (short) (sign | 0x7C00);
            }
            // Keep the top payload bits and force the quiet bit so a NaN never turns into infinity.
            return (short) (sign | 0x7C00 | 0x200 | (mant >>> 13));
        }
        int halfExp = exp - 127 + 15;
        if (halfExp >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (halfExp >= 1) {
            int halfMant = mant >>> 13;
            int rest = mant & 0x1FFF;
            int result = (halfExp << 10) | halfMant;
            if (rest > 0x1000 || (rest == 0x1000 && (halfMant & 1) == 1)) {
                result++; // a carry out of the mantissa correctly bumps the exponent, up to infinity
            }
            return (short) (sign | result);
        }
        // Subnormal half: value = m * 2^-24 with m = full * 2^(exp - 126), i.e. full shifted right by 126 - exp.
        int shift = 126 - exp;
        if (shift > 24) {
            return (short) sign; // below half the smallest subnormal: rounds to (signed) zero
        }
        int full = mant | 0x800000;
        int m = full >>> shift;
        int rest = full & ((1 << shift) - 1);
        int halfway = 1 << (shift - 1);
        if (rest > halfway || (rest == halfway && (m & 1) == 1)) {
            m++; // may become 0x400, which is exactly the smallest normal half
        }
        return (short) (sign | m);
    }

    /** IEEE half bits to float (exact: every half value is a float value). */
    public static float halfToFloat(short half) {
        int h = half & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0) {
            float magnitude = mant * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Float to bfloat16 bits (the top 16 bits of the float), round-to-nearest-even. */
    public static short floatToBFloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7F800000) == 0x7F800000 && (bits & 0x7FFFFF) != 0) {
            return (short) ((bits >>> 16) | 0x40); // quiet NaN, never rounded into infinity
        }
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float bfloat16ToFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xFFFF) << 16);
    }

    /** The float the value becomes after a round trip through half precision. */
    public static float roundToHalf(float value) {
        return halfToFloat(floatToHalf(value));
    }

    public static float roundToBFloat16(float value) {
        return bfloat16ToFloat(floatToBFloat16(value));
    }
}
