package io.edgefleet.engine.pipeline;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.Progress;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxModel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * What a pass gets besides the model: calibration data, ONNX Runtime sessions and activation capture, recipe
 * parameters, progress reporting, and the per-layer decision log that ends up in the report.
 */
public final class PassContext {
    private final String recipeName;
    private final OnnxModel baseModel;
    private final Dataset calibration;
    private final OrtRunner.Options runtime;
    private final SortedMap<String, String> parameters;
    private final Progress progress;
    private final BooleanSupplier cancelled;
    private final List<LayerDecision> decisions = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final SortedMap<String, ParamSpec<?>> read = new TreeMap<>();
    private String passName = "";
    private Progress passProgress = Progress.NONE;

    public PassContext(String recipeName, OnnxModel baseModel, Dataset calibration, OrtRunner.Options runtime,
            Map<String, String> parameters, Progress progress, BooleanSupplier cancelled) {
        this.recipeName = recipeName;
        this.baseModel = baseModel;
        this.calibration = calibration;
        this.runtime = runtime;
        this.parameters = new TreeMap<>(parameters);
        this.progress = progress;
        this.cancelled = cancelled == null ? () -> false : cancelled;
    }

    /** A context for running a pass on its own (tests, benchmarks). */
    public static PassContext standalone(OnnxModel baseModel, Dataset calibration, Map<String, String> parameters) {
        return new PassContext("standalone", baseModel, calibration, OrtRunner.Options.defaults(), parameters,
                Progress.NONE, null);
    }

    void enterPass(String name, Progress slice) {
        this.passName = name;
        this.passProgress = slice;
    }

    public String recipeName() {
        return recipeName;
    }

    public String passName() {
        return passName;
    }

    /** The model the recipe started from (the float reference for sensitivity analysis). */
    public OnnxModel baseModel() {
        return baseModel;
    }

    public Optional<Dataset> calibration() {
        return Optional.ofNullable(calibration);
    }

    /**
     * The calibration data.
     *
     * @throws BadInputException when the job has none
     */
    public Dataset requireCalibration() {
        if (calibration == null) {
            throw new BadInputException("recipe '" + recipeName + "' (pass '" + passName
                    + "') needs calibration data; provide a calibration .npz");
        }
        return calibration;
    }

    public OrtRunner.Options runtimeOptions() {
        return runtime;
    }

    /** A session with the job's runtime options. The caller closes it. */
    public OrtRunner openRunner(OnnxModel model) {
        return OrtRunner.open(model, runtime);
    }

    /** Per-sample values of the named tensors over the calibration data (see {@link OrtRunner#captureActivations}). */
    public Map<String, float[][]> captureActivations(OnnxModel model, List<String> valueNames, int maxSamples) {
        return OrtRunner.captureActivations(model, requireCalibration(), valueNames, maxSamples, runtime);
    }

    /** Streams the named tensors batch by batch over the calibration data, for large models. */
    public void streamActivations(OnnxModel model, Collection<String> valueNames, int maxSamples, int batchSize,
            OrtRunner.ActivationVisitor visitor) {
        OrtRunner.streamActivations(model, requireCalibration(), valueNames, maxSamples, runtime, batchSize, visitor);
    }

    // ---------------------------------------------------------------- parameters

    /** The job's parameter values as given (every declared parameter, defaults included, when a recipe runs). */
    public SortedMap<String, String> parameters() {
        return Collections.unmodifiableSortedMap(parameters);
    }

    /**
     * Every parameter a pass has read so far, with the spec it read it through (the recipe tests check each is
     * declared by its recipe with the same rule).
     */
    public SortedMap<String, ParamSpec<?>> parametersRead() {
        return Collections.unmodifiableSortedMap(read);
    }

    /**
     * A parameter's value, parsed by its spec: the job's value, or the spec's default when the job has none (a
     * standalone context). Read through the spec the recipe declares, so a value the recipe accepted at submission
     * parses the same way here.
     *
     * @throws BadInputException for a value the spec does not allow (only possible when the values did not come
     *     from {@link Recipe#withParameters}, e.g. a standalone context)
     */
    public <T> T get(ParamSpec<T> spec) {
        ParamSpec<?> earlier = read.putIfAbsent(spec.name(), spec);
        if (earlier != null && !earlier.sameRuleAs(spec)) {
            throw new IllegalStateException("parameter '" + spec.name() + "' is read with two rules: " + earlier
                    + " and " + spec);
        }
        String value = parameters.get(spec.name());
        try {
            return spec.parse(value == null ? spec.defaultValue() : value);
        } catch (BadInputException e) {
            throw new BadInputException("recipe '" + recipeName + "': " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- progress and records

    /** Progress within the current pass, 0..1. Also the place where a cancelled job stops. */
    public void progress(double fraction, String message) {
        checkCancelled();
        passProgress.report(fraction, passName + ": " + message);
    }

    /** @throws CancellationException when the job was cancelled */
    public void checkCancelled() {
        if (cancelled.getAsBoolean()) {
            throw new CancellationException("compression job cancelled during pass '" + passName + "'");
        }
    }

    public void decide(LayerDecision decision) {
        decisions.add(decision);
    }

    /** Records a per-layer decision of the current pass. */
    public void decide(String node, String opType, String action, String reason, Map<String, Double> metrics) {
        decisions.add(new LayerDecision(passName, node, opType, action, reason, new TreeMap<>(metrics)));
    }

    /** A remark for the report that is not tied to a layer. */
    public void note(String message) {
        notes.add(passName.isEmpty() ? message : passName + ": " + message);
    }

    public List<LayerDecision> decisions() {
        return Collections.unmodifiableList(decisions);
    }

    public List<String> notes() {
        return Collections.unmodifiableList(notes);
    }

    Progress overallProgress() {
        return progress;
    }
}
