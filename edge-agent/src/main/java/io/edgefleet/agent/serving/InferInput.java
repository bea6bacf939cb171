package io.edgefleet.agent.serving;

import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.Objects;

/**
 * One input tensor of a request: name, shape, datatype and the values flat in row-major order, held
 * in the Java array of the datatype ({@code float[]} for FP32, {@code double[]} FP64, {@code long[]}
 * INT64, {@code int[]} INT32, {@code short[]} INT16, {@code byte[]} INT8 and UINT8, {@code boolean[]}
 * BOOL). The service checks all of it against the model, so a record made by hand gets the same
 * clear refusals as a JSON request.
 */
public record InferInput(String name, long[] shape, Datatype datatype, Object data) {

    public InferInput {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(datatype, "datatype");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
    }

    public static InferInput fp32(String name, long[] shape, float... data) {
        return new InferInput(name, shape, Datatype.FP32, data);
    }

    public static InferInput fp64(String name, long[] shape, double... data) {
        return new InferInput(name, shape, Datatype.FP64, data);
    }

    public static InferInput int64(String name, long[] shape, long... data) {
        return new InferInput(name, shape, Datatype.INT64, data);
    }

    public static InferInput int32(String name, long[] shape, int... data) {
        return new InferInput(name, shape, Datatype.INT32, data);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of values (0 when {@code data} is not an array; the service refuses that). */
    public int size() {
        return data.getClass().isArray() ? Array.getLength(data) : 0;
    }

    @Override
    public String toString() {
        return "InferInput[" + name + " " + datatype + " " + Arrays.toString(shape) + "]";
    }
}
