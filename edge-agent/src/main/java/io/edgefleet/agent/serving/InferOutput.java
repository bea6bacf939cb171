package io.edgefleet.agent.serving;

import java.util.Arrays;

/** One output tensor of a response; {@code data} is the Java array of the datatype, as in {@link InferInput}. */
public record InferOutput(String name, long[] shape, Datatype datatype, Object data) {

    public InferOutput {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** FP32 values (convenience for the common case). */
    public float[] floats() {
        return (float[]) data;
    }

    @Override
    public String toString() {
        return "InferOutput[" + name + " " + datatype + " " + Arrays.toString(shape) + "]";
    }
}
