package io.edgefleet.agent.inference;

import java.util.Arrays;

/**
 * What a model declares for one input or output: its name, element type ({@link ElementType#OTHER}
 * for types that cannot be exchanged, with the runtime's own name in {@code typeName}) and shape, a
 * negative dimension being dynamic (any size).
 */
public record TensorSpec(String name, ElementType type, String typeName, long[] shape) {

    public TensorSpec {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec s && s.name.equals(name) && s.type == type && s.typeName.equals(typeName)
                && Arrays.equals(s.shape, shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + ":" + typeName + Arrays.toString(shape);
    }
}
