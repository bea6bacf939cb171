package io.edgefleet.engine.planner;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.data.DatasetException;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.ValueInfo;
import java.util.ArrayList;
import io.edgefleet.engine.onnx.TensorData;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Which model inputs only real data can feed, and clear refusals that ask for it. Synthetic feeds (zeros, a ramp)
 * are fine for a fixed-shape float image; they say nothing about a streaming model whose inputs include a recurrent
 * state carried between calls, a scalar such as a sample rate, or dimensions (sequence length, frame count) only real
 * data fixes. The planner never plans on synthetic inputs: it needs validation data that feeds every input, and when
 * that data is missing or does not fit it says which input needs what.
 */
public final class InputRequirements {
    /** Names that streaming and recurrent models give their carried state. */
    private static final Pattern STATE = Pattern.compile("(?i).*(state|hidden|cache|past|memory).*|h0|c0|h|c|h_in|c_in");

    private InputRequirements() {
    }

    /** Why synthetic data cannot stand in for this input, or null when it can. */
    public static String whyDataIsNeeded(OnnxModel model, ValueInfo in) {
        if (!in.hasShape()) {
            return "input '" + in.name() + "' declares no shape, so nothing can be synthesised for it";
        }
        if (in.rank() == 0) {
            return "input '" + in.name() + "' is a scalar (" + in.describe() + "), such as a sample rate or a step "
                    + "counter: its value means something and cannot be made up; add an array '" + in.name()
                    + "' with one value per sample (shape [samples])";
        }
        if (looksLikeState(model, in)) {
            return "input '" + in.name() + "' (" + in.describe() + ") looks like a recurrent state carried between "
                    + "calls: its values come from earlier inferences, not from a generator; add an array '"
                    + in.name() + "' with the state each sample is evaluated with (zeros for a stream's first frame)";
        }
        List<String> dynamic = new ArrayList<>();
        for (int i = 1; i < in.rank(); i++) {
            if (!in.dims().get(i).isStatic()) {
                dynamic.add("axis " + i + " (" + in.dims().get(i) + ")");
            }
        }
        if (!dynamic.isEmpty()) {
            return "input '" + in.name() + "' (" + in.describe() + ") has dimensions only real data fixes: "
                    + String.join(", ", dynamic) + "; add an array '" + in.name() + "' of real samples";
        }
        return null;
    }

    static boolean looksLikeState(OnnxModel model, ValueInfo in) {
        if (STATE.matcher(in.name()).matches()) {
            return true;
        }
        // A second input with the exact shape and type of an output is what a recurrent model feeds back to itself
        // (the first input is the sample: an autoencoder's output matches it without being state).
        boolean first = model.inputs().get(0).name().equals(in.name());
        return !first && in.rank() >= 2 && model.outputs().stream().anyMatch(o -> o.type() == in.type()
                && o.hasShape() && o.dims().equals(in.dims()));
    }

    /**
     * The batch axis, when it is evidently not the first: the first axis fixed and a later one symbolic. Null when
     * axis 0 is (or may be) the batch axis.
     */
    public static Integer nonLeadingBatchAxis(ValueInfo in) {
        if (!in.hasShape() || in.rank() < 2 || !in.dims().get(0).isStatic()) {
            return null;
        }
        for (int i = 1; i < in.rank(); i++) {
            ValueInfo.Dim d = in.dims().get(i);
            if (!d.isStatic() && d.param() != null && d.param().toLowerCase(Locale.ROOT).matches("n|b|batch.*")) {
                return i;
            }
        }
        return null;
    }

    /**
     * Checks that the validation data (required) and the calibration data (optional) feed every input.
     *
     * @throws BadInputException naming each input that needs data and why
     */
    public static void check(OnnxModel model, Dataset calibration, Dataset validation) {
        check(model, calibration, validation, Map.of());
    }

    /**
     * As {@link #check(OnnxModel, Dataset, Dataset)}, with the batch axes the caller declared (already applied to the
     * data with {@link #withBatchAxes}): an input whose batch axis is evidently not the first must be declared, or
     * the data would be read along the wrong axis.
     */
    public static void check(OnnxModel model, Dataset calibration, Dataset validation,
            Map<String, Integer> declaredBatchAxes) {
        if (validation == null) {
            List<String> why = new ArrayList<>();
            for (ValueInfo in : model.inputs()) {
                String w = whyDataIsNeeded(model, in);
                if (w != null) {
                    why.add(w);
                }
            }
            throw new BadInputException("planning needs validation data: the accuracy gate and the latency "
                    + "measurement run on it; upload a .npz with one array per model input"
                    + (why.isEmpty() ? "" : " (synthetic inputs would not do here: " + String.join("; ", why) + ")"));
        }
        checkMissing(model, calibration, validation);
        for (ValueInfo in : model.inputs()) {
            Integer axis = nonLeadingBatchAxis(in);
            if (axis != null && (declaredBatchAxes == null || !declaredBatchAxes.containsKey(in.name()))) {
                throw new BadInputException("input '" + in.name() + "' (" + in.describe() + ") looks batched along "
                        + "axis " + axis + ", not 0 (axis 0 is fixed, axis " + axis + " is symbolic); declare it: "
                        + "\"batchAxis\": {\"" + in.name() + "\": " + axis + "} with arrays shaped [samples, ...the "
                        + "input's other dimensions], or {\"" + in.name() + "\": 0} if axis 0 really holds samples");
            }
        }
        for (Dataset d : calibration == null ? new Dataset[] {validation} : new Dataset[] {validation, calibration}) {
            try {
                d.validateFor(model);
            } catch (DatasetException e) {
                throw new BadInputException(e.getMessage() + batchAxisHint(model), e);
            }
        }
    }

    private static void checkMissing(OnnxModel model, Dataset calibration, Dataset validation) {
        for (Dataset d : calibration == null ? new Dataset[] {validation} : new Dataset[] {validation, calibration}) {
            List<String> problems = new ArrayList<>();
            for (ValueInfo in : model.inputs()) {
                if (!d.inputNames().contains(in.name())) {
                    String w = whyDataIsNeeded(model, in);
                    problems.add(w != null ? d.source() + " has no array for it: " + w
                            : d.source() + " has no array '" + in.name() + "' for input " + in.describe());
                }
            }
            if (!problems.isEmpty()) {
                throw new BadInputException(String.join("; ", problems));
            }
        }
    }

    /**
     * The dataset with samples described by a batch axis other than the first: an array stored as [samples, ...the
     * input's other dimensions] for an input whose batch axis is {@code axis} gets a size-1 axis inserted there for
     * every sample, and the evaluation feeds one sample per run. A reshape, no copy of the values' order.
     *
     * @param batchAxis input name to the model's batch axis; 0 (or absent) leaves an array as it is
     * @throws BadInputException for an unknown input, an axis outside the input's rank, or an array whose rank does
     *     not leave the batch axis out
     */
    public static Dataset withBatchAxes(OnnxModel model, Dataset d, Map<String, Integer> batchAxis) {
        if (d == null || batchAxis == null || batchAxis.values().stream().allMatch(a -> a == null || a == 0)) {
            return d;
        }
        Map<String, TensorData> arrays = new LinkedHashMap<>();
        for (String name : d.inputNames()) {
            arrays.put(name, d.input(name));
        }
        for (Map.Entry<String, Integer> e : batchAxis.entrySet()) {
            int axis = e.getValue() == null ? 0 : e.getValue();
            if (axis == 0) {
                continue;
            }
            ValueInfo in = model.inputs().stream().filter(v -> v.name().equals(e.getKey())).findFirst()
                    .orElseThrow(() -> new BadInputException("batchAxis names '" + e.getKey() + "', which is not a "
                            + "model input; inputs are " + model.inputs().stream().map(ValueInfo::name).toList()));
            if (!in.hasShape() || axis < 0 || axis >= in.rank()) {
                throw new BadInputException("batchAxis " + axis + " for input '" + in.name() + "' is outside its "
                        + "shape " + in.describe());
            }
            TensorData a = arrays.get(in.name());
            if (a == null) {
                continue; // reported by check() with the reason the input needs data
            }
            if (a.rank() != in.rank()) {
                throw new BadInputException(d.source() + ": array '" + in.name() + "' has shape "
                        + Arrays.toString(a.shape()) + "; with batchAxis " + axis + " it must be [samples, ...] "
                        + "with the input's other " + (in.rank() - 1) + " dimensions (the batch axis left out), rank "
                        + in.rank());
            }
            long[] shape = a.shape();
            long[] out = new long[shape.length + 1];
            out[0] = shape[0];
            // sample dims: the input's dims with the batch axis (size 1 per sample) put back at `axis`
            for (int i = 0, j = 1; i < in.rank(); i++) {
                out[i + 1] = i == axis ? 1 : shape[j++];
            }
            arrays.put(in.name(), a.reshape(out));
        }
        return Dataset.of(arrays, d.labels().orElse(null), d.cohorts().orElse(null));
    }

    private static String batchAxisHint(OnnxModel model) {
        for (ValueInfo in : model.inputs()) {
            Integer axis = nonLeadingBatchAxis(in);
            if (axis != null) {
                return "; input '" + in.name() + "' (" + in.describe() + ") has its batch axis at " + axis
                        + ", not 0: store samples along axis 0 of the array with the model's batch axis left out "
                        + "(shape [samples, " + "...the input's other dimensions]) and declare \"batchAxis\": {\""
                        + in.name() + "\": " + axis + "} in the plan request (see docs/planner.md)";
            }
        }
        return "";
    }
}
