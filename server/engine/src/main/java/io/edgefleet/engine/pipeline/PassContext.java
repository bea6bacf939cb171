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
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
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
    private final SortedSet<String> read = new TreeSet<>();
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

    public SortedMap<String, String> parameters() {
        return Collections.unmodifiableSortedMap(parameters);
    }

    /** Every parameter name a pass has asked for so far (the recipe tests check each is declared by its recipe). */
    public SortedSet<String> parametersRead() {
        return Collections.unmodifiableSortedSet(read);
    }

    public String param(String key, String defaultValue) {
        read.add(key);
        return parameters.getOrDefault(key, defaultValue);
    }

    public int intParam(String key, int defaultValue) {
        read.add(key);
        String v = parameters.get(key);
        if (v == null) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new BadInputException("recipe parameter '" + key + "' must be an integer, got '" + v + "'");
        }
    }

    public double doubleParam(String key, double defaultValue) {
        read.add(key);
        String v = parameters.get(key);
        if (v == null) {
            return defaultValue;
        }
        try {
            double d = Double.parseDouble(v.trim());
            if (!Double.isFinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new BadInputException("recipe parameter '" + key + "' must be a finite number, got '" + v + "'");
        }
    }

    public boolean boolParam(String key, boolean defaultValue) {
        read.add(key);
        String v = parameters.get(key);
        if (v == null) {
            return defaultValue;
        }
        return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new BadInputException("recipe parameter '" + key + "' must be true or false, got '" + v
                    + "'");
        };
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
