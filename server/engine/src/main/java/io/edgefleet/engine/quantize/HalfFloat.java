package io.edgefleet.engine.quantize;

/**
 * IEEE 754 binary16 conversions (Java 17 has no {@code Float.floatToFloat16}). Rounds to nearest, ties to even;
 * overflow becomes infinity, values below the smallest subnormal become signed zero, NaN stays NaN.
 */
public final class HalfFloat {

    public static final float MAX_VALUE = 65504f;

    private HalfFloat() {
    }

    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        if (exp == 0xFF) {
            // infinity or NaN; keep NaN quiet and non-zero
            return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign; // below half of the smallest subnormal
            }
            // subnormal: shift the mantissa with its implicit bit into place, rounding to nearest even
            int m = mant | 0x800000;
            int shift = 14 - e;
            int half = m >>> shift;
            int rem = m & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
            half++; // may carry into the exponent, up to infinity, which is the correct rounding
        }
        return (short) (sign | half);
    }

    public static float toFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            float v = mant * 0x1p-24f; // subnormal: mant * 2^-24, exact in float
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Converts a float array to little-endian half bytes, the raw_data layout of an ONNX FLOAT16 tensor. */
    public static byte[] toRawBytes(float[] values) {
        byte[] out = new byte[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            short h = fromFloat(values[i]);
            out[2 * i] = (byte) h;
            out[2 * i + 1] = (byte) (h >>> 8);
        }
        return out;
    }

    public static float[] fromRawBytes(byte[] raw) {
        if ((raw.length & 1) != 0) {
            throw new IllegalArgumentException("float16 raw data must have an even length, had " + raw.length);
        }
        float[] out = new float[raw.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = toFloat((short) ((raw[2 * i] & 0xFF) | (raw[2 * i + 1] << 8)));
        }
        return out;
    }
}
