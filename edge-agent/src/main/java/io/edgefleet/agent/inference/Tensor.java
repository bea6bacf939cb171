package io.edgefleet.agent.inference;

import java.lang.reflect.Array;
import java.util.Arrays;

/**
 * A dense tensor in plain Java: element type, shape, and the values in row-major order in the array
 * type {@link ElementType#arrayClass()} names ({@code byte[]} for INT8 and UINT8, UINT8 values being
 * the unsigned reading of the bytes).
 */
public record Tensor(ElementType type, long[] shape, Object values) {

    public Tensor {
        if (type == null || type == ElementType.OTHER) {
            throw new IllegalArgumentException("a tensor needs one of the exchangeable element types, not " + type);
        }
        if (values == null || values.getClass() != type.arrayClass()) {
            throw new IllegalArgumentException(type + " values must be a " + type.arrayClass().getSimpleName()
                    + (values == null ? "" : ", not a " + values.getClass().getSimpleName()));
        }
        long n = elementCount(shape);
        if (n != Array.getLength(values)) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " elements but "
                    + Array.getLength(values) + " values were given");
        }
        shape = shape.clone();
    }

    /** Product of the dimensions; -1 when a dimension is negative or the product overflows a long. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return n;
    }

    public int size() {
        return Array.getLength(values);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && t.type == type && Arrays.equals(t.shape, shape)
                && Arrays.deepEquals(new Object[] {values}, new Object[] {t.values});
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "Tensor[" + type + " " + Arrays.toString(shape) + "]";
    }
}
