package io.edgefleet.agent.serving;

import java.util.Arrays;
import java.util.List;

/**
 * A model as the Open Inference Protocol describes it: name, the versions served (this agent serves
 * one at a time: the active slot), platform, and the tensors with protocol datatypes and shapes (-1 =
 * any size).
 */
public record ModelMetadata(String name, List<String> versions, String platform, List<TensorMetadata> inputs,
                            List<TensorMetadata> outputs) {
    public static final String PLATFORM = "onnxruntime_onnx";

    public ModelMetadata {
        versions = List.copyOf(versions);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** One tensor: name, protocol datatype (also for types the API does not exchange, e.g. FP16), shape. */
    public record TensorMetadata(String name, String datatype, long[] shape) {
        public TensorMetadata {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorMetadata t && t.name.equals(name) && t.datatype.equals(datatype)
                    && Arrays.equals(t.shape, shape);
        }

        @Override
        public int hashCode() {
            return name.hashCode();
        }

        @Override
        public String toString() {
            return name + ":" + datatype + Arrays.toString(shape);
        }
    }
}
