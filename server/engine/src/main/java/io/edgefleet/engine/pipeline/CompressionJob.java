package io.edgefleet.engine.pipeline;

import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.EngineVersion;
import io.edgefleet.engine.Progress;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.Evaluator;
import io.edgefleet.engine.eval.Latency;
import io.edgefleet.engine.eval.ModelLoadException;
import io.edgefleet.engine.eval.ModelStats;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.eval.Quality;
import io.edgefleet.engine.gate.AccuracyGate;
import io.edgefleet.engine.gate.Verdict;
import io.edgefleet.engine.onnx.OnnxFormatException;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.onnx.TensorData;
import io.edgefleet.engine.report.Report;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * Runs a recipe on a model and judges the result: check the inputs, apply the passes, load the variant in ONNX
 * Runtime, compare it with the base on the validation data (the calibration data if there is no validation set),
 * measure size, compute and latency, apply the accuracy gate, and assemble the report. A compression report also
 * carries two baselines measured the same way on the validation data: the uncompressed model and the recipe's
 * deliberately aggressive reference ({@link Recipe#aggressiveReference}); they do not take part in the gate.
 *
 * <pre>{@code
 * JobResult r = CompressionJob.builder(model, RecipeRegistry.get("dynamic-int8"))
 *     .calibration(calib).validation(valid).gate(new AccuracyGate(0.5, 1.0)).build().run();
 * }</pre>
 */
public final class CompressionJob {
    public static final String META_RECIPE = "edgefleet.recipe";
    public static final String META_BASE_SHA256 = "edgefleet.base_sha256";
    public static final String META_ENGINE = "edgefleet.engine_version";

    private final OnnxModel model;
    private final String modelName;
    private final Recipe recipe;
    private final Dataset calibration;
    private final Dataset validation;
    private final AccuracyGate gate;
    private final Evaluator.Options evaluation;
    private final boolean measureLatency;
    private final Progress progress;
    private final BooleanSupplier cancelled;

    private CompressionJob(Builder b) {
        this.model = b.model;
        this.modelName = b.modelName != null ? b.modelName : b.model.graphName().isEmpty() ? "model"
                : b.model.graphName();
        this.recipe = b.recipe;
        this.calibration = b.calibration;
        this.validation = b.validation;
        this.gate = b.gate;
        this.evaluation = b.evaluation;
        this.measureLatency = b.measureLatency;
        this.progress = b.progress;
        this.cancelled = b.cancelled;
    }

    public static Builder builder(OnnxModel model, Recipe recipe) {
        return new Builder(model, recipe);
    }

    public static final class Builder {
        private final OnnxModel model;
        private final Recipe recipe;
        private String modelName;
        private Dataset calibration;
        private Dataset validation;
        private AccuracyGate gate = AccuracyGate.defaults();
        private Evaluator.Options evaluation = Evaluator.Options.defaults();
        private boolean measureLatency = true;
        private Progress progress = Progress.NONE;
        private BooleanSupplier cancelled = () -> false;

        private Builder(OnnxModel model, Recipe recipe) {
            this.model = Objects.requireNonNull(model, "model");
            this.recipe = Objects.requireNonNull(recipe, "recipe");
        }

        /** Name used in the report and the variant's file name (default: the graph name). */
        public Builder modelName(String name) {
            this.modelName = name;
            return this;
        }

        public Builder calibration(Dataset d) {
            this.calibration = d;
            return this;
        }

        public Builder validation(Dataset d) {
            this.validation = d;
            return this;
        }

        public Builder gate(AccuracyGate g) {
            this.gate = Objects.requireNonNull(g);
            return this;
        }

        public Builder evaluation(Evaluator.Options o) {
            this.evaluation = Objects.requireNonNull(o);
            return this;
        }

        /** Skip the latency measurement (tests, or when the caller benchmarks on the device instead). */
        public Builder measureLatency(boolean on) {
            this.measureLatency = on;
            return this;
        }

        public Builder progress(Progress p) {
            this.progress = Objects.requireNonNull(p);
            return this;
        }

        /** Polled between steps and by passes; when it returns true the job ends with a CancellationException. */
        public Builder cancelled(BooleanSupplier c) {
            this.cancelled = Objects.requireNonNull(c);
            return this;
        }

        public CompressionJob build() {
            return new CompressionJob(this);
        }
    }

    /** File name for the variant: {@code <model>-<recipe>.onnx}, with characters unsafe in paths replaced. */
    public String variantFileName() {
        return safe(modelName) + "-" + recipe.name() + ".onnx";
    }

    /** File name for a variant the gate rejected: {@code <model>-<recipe>.rejected.onnx}. */
    public String rejectedFileName() {
        return safe(modelName) + "-" + recipe.name() + ".rejected.onnx";
    }

    static String safe(String s) {
        String cleaned = s.replaceAll("[^A-Za-z0-9._-]", "_");
        return cleaned.isEmpty() || cleaned.startsWith(".") ? "model" + cleaned : cleaned;
    }

    /**
     * Runs the job.
     *
     * @throws BadInputException when the model or data cannot be used (unloadable model, data that does not fit,
     *     a recipe that needs calibration data without any, bad recipe parameters)
     * @throws EngineException when a pass produced a model ONNX Runtime refuses, or evaluation failed
     * @throws java.util.concurrent.CancellationException when cancelled
     */
    public JobResult run() {
        List<String> notes = new ArrayList<>();
        progress.report(0, "checking inputs");
        checkCancelled();
        for (Dataset d : new Dataset[] {calibration, validation}) {
            if (d != null) {
                notes.addAll(d.validateFor(model));
            }
        }
        if (recipe.needsCalibration() && calibration == null) {
            throw new BadInputException("recipe '" + recipe.name() + "' needs calibration data; provide a "
                    + "calibration .npz");
        }
        try (OrtRunner ignored = OrtRunner.open(model, OrtRunner.Options.defaults())) {
            // The base must run before anything is blamed on a pass.
        } catch (ModelLoadException e) {
            throw new OnnxFormatException(OnnxFormatException.Reason.INVALID_MODEL, e.getMessage(), e);
        }

        // --- passes
        OrtRunner.Options runtime = OrtRunner.Options.defaults().withThreads(evaluation.threads());
        PassContext ctx = new PassContext(recipe.name(), model, calibration, runtime, recipe.parameters(), progress,
                cancelled);
        OnnxModel current = model;
        List<Pass> passes = recipe.passes();
        Progress passesProgress = progress.slice(0.05, 0.55);
        for (int i = 0; i < passes.size(); i++) {
            Pass pass = passes.get(i);
            checkCancelled();
            Progress slice = passesProgress.slice((double) i / passes.size(), (double) (i + 1) / passes.size());
            ctx.enterPass(pass.name(), slice);
            slice.report(0, pass.name() + ": start");
            OnnxModel next = pass.apply(current, ctx);
            if (next == null) {
                throw new EngineException("pass '" + pass.name() + "' of recipe '" + recipe.name()
                        + "' returned no model");
            }
            current = next;
            slice.report(1, pass.name() + ": done");
        }
        notes.addAll(ctx.notes());
        OnnxModel variant = current
                .withMetadata(META_RECIPE, recipe.name())
                .withMetadata(META_BASE_SHA256, model.sha256())
                .withMetadata(META_ENGINE, EngineVersion.get());
        try (OrtRunner ignored = OrtRunner.open(variant, runtime)) {
            // Every artifact the engine writes must load in ONNX Runtime.
        } catch (ModelLoadException e) {
            throw new EngineException("recipe '" + recipe.name() + "' produced a model ONNX Runtime cannot load: "
                    + e.getMessage(), e);
        }

        // --- evaluation
        checkCancelled();
        Evaluator evaluator = new Evaluator(evaluation);
        Dataset evalData = validation != null ? validation : calibration;
        String evaluatedOn = validation != null ? "validation" : calibration != null ? "calibration" : "none";
        if (validation == null && calibration != null) {
            notes.add("no validation data: accuracy was measured on the calibration data, which the passes saw; "
                    + "expect it to be optimistic");
        }
        Quality quality = null;
        if (evalData != null) {
            progress.report(0.6, "evaluating accuracy on " + evalData.size() + " samples");
            quality = evaluator.compare(model, variant, evalData, progress.slice(0.6, 0.75));
        }
        checkCancelled();
        progress.report(0.75, "size and compute");
        Map<String, TensorData> sample = evalData != null ? Evaluator.firstSample(model, evalData) : null;
        if (sample == null) {
            try {
                sample = OrtRunner.syntheticFeeds(model);
            } catch (EngineException e) {
                notes.add("no data and " + e.getMessage() + ": MACs and latency not measured");
            }
        }
        ModelStats baseStats = stats(evaluator, model, sample);
        ModelStats variantStats = stats(evaluator, variant, sample);

        // --- baselines
        List<Report.Baseline> baselines = List.of();
        if (recipe.kind() == Recipe.Kind.COMPRESSION) {
            checkCancelled();
            progress.report(0.78, "baselines");
            baselines = baselines(evaluator, runtime, variant, ctx.decisions(), sample, baseStats, quality,
                    progress.slice(0.78, 0.9));
        }

        Latency latency = null;
        if (measureLatency && sample != null) {
            checkCancelled();
            progress.report(0.9, "measuring latency");
            latency = evaluator.latency(model, variant, sample, progress.slice(0.9, 1.0));
        }
        Verdict verdict = gate.evaluate(quality);
        progress.report(1, verdict.passed() ? "gate passed" : "gate rejected the variant");
        // A rejected variant is still handed out (to inspect it), under a name nobody deploys by accident.
        String fileName = verdict.passed() ? variantFileName() : rejectedFileName();

        Report report = new Report(
                EngineVersion.get(),
                new Report.RecipeInfo(recipe.name(), recipe.kind().name(), recipe.description(), recipe.passNames(),
                        recipe.parameters()),
                new Report.Inputs(new Report.ModelInfo(modelName, model.sha256(), model.sizeBytes(),
                        model.opsetVersion()), dataInfo(calibration), dataInfo(validation)),
                new Report.Artifact(fileName, variant.sha256(), variant.sizeBytes()),
                ctx.decisions(),
                notes,
                new Report.Stats(baseStats, variantStats, (double) variantStats.bytes() / baseStats.bytes(),
                        baseStats.macs() > 0 ? (double) variantStats.macs() / baseStats.macs() : null),
                new Report.Accuracy(evaluatedOn, quality),
                baselines,
                verdict,
                latency == null ? null : new Report.Measurements("wall-clock timings on this machine; they vary "
                        + "between runs and are excluded from the deterministic report body", latency));
        return new JobResult(variant, report);
    }

    private static ModelStats stats(Evaluator evaluator, OnnxModel m, Map<String, TensorData> sample) {
        return sample != null ? evaluator.stats(m, sample) : ModelStats.of(m, Map.of());
    }

    /**
     * The uncompressed model and the recipe's aggressive reference, evaluated like the variant. Only the validation
     * data scores them: calibration data was seen by the passes (and by a calibrated reference), so scores on it would
     * flatter both and compare nothing. A reference that cannot be built or run is reported with the reason; it never
     * fails the job, whose variant is judged on its own.
     */
    private List<Report.Baseline> baselines(Evaluator evaluator, OrtRunner.Options runtime, OnnxModel variant,
            List<LayerDecision> decisions, Map<String, TensorData> sample, ModelStats baseStats, Quality quality,
            Progress slice) {
        String unscored = validation != null ? null : calibration != null
                ? "no validation data: baselines carry size and MACs only (the calibration data was seen by the passes "
                        + "and would flatter them)"
                : "no validation data: baselines carry size and MACs only";
        String evaluatedOn = validation != null ? "validation" : "none";
        List<Report.Baseline> out = new ArrayList<>();

        // The base model: its scores are the base columns of the variant's comparison (same evaluator, same data).
        List<Report.Score> baseScores = new ArrayList<>();
        String baseNote = unscored;
        if (validation != null && quality != null) {
            baseScores.add(new Report.Score(quality.overall().label(), quality.overall().samples(),
                    quality.overall().basePercent(), 0));
            for (Quality.Slice c : quality.cohorts()) {
                baseScores.add(new Report.Score(c.label(), c.samples(), c.basePercent(), 0));
            }
            baseNote = quality.labeled() ? "top-1 accuracy against the labels"
                    : "no labels: the base model is the reference, its agreement with itself is 100 % by definition";
        }
        out.add(new Report.Baseline(Report.UNCOMPRESSED, "the base model, unchanged", model.sha256(), baseStats, 1.0,
                baseStats.macs() > 0 ? 1.0 : null, evaluatedOn, baseScores, null, baseNote));

        // The aggressive reference.
        PassContext refCtx = new PassContext(recipe.name(), model, calibration, runtime, recipe.parameters(), slice,
                cancelled);
        refCtx.enterPass(Report.AGGRESSIVE_REFERENCE, slice.slice(0, 0.5));
        Optional<AggressiveReference.Built> built;
        try {
            built = recipe.aggressiveReference(model, variant, decisions, refCtx);
        } catch (CancellationException e) {
            throw e;
        } catch (RuntimeException e) {
            built = Optional.of(AggressiveReference.Built.none("not built: " + e.getMessage()));
        }
        if (built.isEmpty()) {
            out.add(new Report.Baseline(Report.AGGRESSIVE_REFERENCE, "recipe '" + recipe.name()
                    + "' defines no aggressive reference", null, null, null, null, "none", List.of(), null, null));
            return out;
        }
        AggressiveReference.Built ref = built.get();
        if (ref.model() == null) {
            out.add(new Report.Baseline(Report.AGGRESSIVE_REFERENCE, ref.description(), null, null, null, null, "none",
                    List.of(), null, null));
            return out;
        }
        checkCancelled();
        OnnxModel refModel = ref.model();
        ModelStats refStats;
        Quality refQuality = null;
        String refNote = unscored;
        try {
            refStats = stats(evaluator, refModel, sample);
            if (validation != null) {
                slice.report(0.5, "evaluating the aggressive reference on " + validation.size() + " samples");
                refQuality = evaluator.compare(model, refModel, validation, slice.slice(0.5, 1));
                refNote = refQuality.labeled() ? "top-1 accuracy against the labels"
                        : "no labels: top-1 agreement with the base model";
            }
        } catch (EngineException e) {
            // Not a BadInputException: the data already fed the base and the variant.
            out.add(new Report.Baseline(Report.AGGRESSIVE_REFERENCE, ref.description(), refModel.sha256(), null, null,
                    null, "none", List.of(), null, "built but not measurable: " + e.getMessage()));
            return out;
        }
        List<Report.Score> refScores = new ArrayList<>();
        if (refQuality != null) {
            refScores.add(new Report.Score(refQuality.overall().label(), refQuality.overall().samples(),
                    refQuality.overall().variantPercent(), refQuality.overall().dropPoints()));
            for (Quality.Slice c : refQuality.cohorts()) {
                refScores.add(new Report.Score(c.label(), c.samples(), c.variantPercent(), c.dropPoints()));
            }
        }
        out.add(new Report.Baseline(Report.AGGRESSIVE_REFERENCE, ref.description(), refModel.sha256(), refStats,
                (double) refStats.bytes() / baseStats.bytes(),
                baseStats.macs() > 0 ? (double) refStats.macs() / baseStats.macs() : null, evaluatedOn, refScores,
                refQuality, refNote));
        return out;
    }

    private static Report.DataInfo dataInfo(Dataset d) {
        return d == null ? null : new Report.DataInfo(d.source(), d.sha256(), d.size(), d.hasLabels(), d.hasCohorts());
    }

    private void checkCancelled() {
        if (cancelled.getAsBoolean()) {
            throw new java.util.concurrent.CancellationException("compression job cancelled");
        }
    }
}
