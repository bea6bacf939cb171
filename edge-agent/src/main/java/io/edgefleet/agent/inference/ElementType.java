package io.edgefleet.agent.inference;

/**
 * Element types of model inputs and outputs as the agent sees them. The first eight can be fed to and
 * read from a model through {@link LoadedModel#run}; {@link #OTHER} stands for everything else the
 * runtime knows (half floats, strings, sequences, maps), which is described but not exchanged.
 */
public enum ElementType {
    FLOAT, DOUBLE, INT64, INT32, INT16, INT8, UINT8, BOOL, OTHER;

    /** The Java array that holds values of this type in a {@link Tensor}. */
    public Class<?> arrayClass() {
        return switch (this) {
            case FLOAT -> float[].class;
            case DOUBLE -> double[].class;
            case INT64 -> long[].class;
            case INT32 -> int[].class;
            case INT16 -> short[].class;
            case INT8, UINT8 -> byte[].class;
            case BOOL -> boolean[].class;
            case OTHER -> throw new IllegalStateException("OTHER has no value array");
        };
    }
}
