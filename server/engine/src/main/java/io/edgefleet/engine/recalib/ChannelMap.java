package io.edgefleet.engine.recalib;

import io.edgefleet.engine.onnx.TensorData;
import java.util.Map;
import java.util.Optional;

/**
 * Which original channels a compressed model keeps at each value whose channel count changed. Recalibration uses it
 * to compare a pruned layer with the same channels of the float model. Values not listed are unchanged.
 */
public record ChannelMap(Map<String, Entry> values) {

    /** Along {@code axis}, the value keeps entries {@code kept} of the original {@code originalWidth}. */
    public record Entry(int axis, int originalWidth, int[] kept) {
    }

    public static final ChannelMap IDENTITY = new ChannelMap(Map.of());

    public ChannelMap {
        values = Map.copyOf(values);
    }

    public Optional<Entry> get(String value) {
        return Optional.ofNullable(values.get(value));
    }

    /** The float model's tensor for {@code value} restricted to the channels the compressed model kept there. */
    public TensorData select(String value, TensorData reference) {
        Entry e = values.get(value);
        if (e == null) {
            return reference;
        }
        int axis = e.axis;
        // Captured tensors may have a different rank than the probe (no batch axis); align from the right.
        long[] shape = reference.shape();
        if (axis >= shape.length || shape[axis] != e.originalWidth) {
            throw new IllegalStateException("value '" + value + "' has shape " + java.util.Arrays.toString(shape)
                    + "; expected " + e.originalWidth + " channels on axis " + axis);
        }
        return AxisSlice.take(reference, axis, e.kept);
    }
}
