package io.edgefleet.engine.report;

import io.edgefleet.engine.eval.Latency;
import io.edgefleet.engine.eval.ModelStats;
import io.edgefleet.engine.eval.Quality;
import io.edgefleet.engine.gate.Verdict;
import io.edgefleet.engine.pipeline.LayerDecision;
import java.util.List;
import java.util.SortedMap;

/**
 * The outcome of one compression job, written as {@code report.json} and {@code report.md}.
 *
 * <p>Determinism: everything except {@link #measurements()} is a function of the model bytes, the recipe and its
 * parameters, the dataset bytes, the engine version and the evaluation thread count; the same inputs give the same
 * JSON bytes (see {@link ReportWriter#deterministicJson}). {@code measurements} holds wall-clock latencies and
 * differs from run to run.
 *
 * <p>{@code baselines} puts the variant between two fixed points measured the same way (same evaluator, same
 * validation data): the uncompressed base model and a deliberately aggressive reference of the same recipe family at
 * the same target. They are kept with the report so later decisions (another recipe, another target, another device)
 * can be weighed against them without re-running anything.
 */
public record Report(String engineVersion, RecipeInfo recipe, Inputs inputs, Artifact variant,
        List<LayerDecision> decisions, List<String> notes, Stats stats, Accuracy accuracy, List<Baseline> baselines,
        Verdict gate, Measurements measurements) {

    public Report {
        decisions = List.copyOf(decisions);
        notes = List.copyOf(notes);
        // Reports stored before baselines existed read back with none.
        baselines = baselines == null ? List.of() : List.copyOf(baselines);
    }

    /** @param kind BASELINE or COMPRESSION; a BASELINE report is about the unchanged float model */
    public record RecipeInfo(String name, String kind, String description, List<String> passes,
            SortedMap<String, String> parameters) {
    }

    /** A model the job read. */
    public record ModelInfo(String name, String sha256, long bytes, int opset) {
    }

    /** A dataset the job read; null in {@link Inputs} when not given. */
    public record DataInfo(String source, String sha256, int samples, boolean labels, boolean cohorts) {
    }

    public record Inputs(ModelInfo model, DataInfo calibration, DataInfo validation) {
    }

    /** The variant as written: suggested file name, hash and size. */
    public record Artifact(String fileName, String sha256, long bytes) {
    }

    /** Static figures; ratios are variant / base. */
    public record Stats(ModelStats base, ModelStats variant, double sizeRatio, Double macsRatio) {
    }

    /** @param evaluatedOn "validation", "calibration" (no validation data given) or "none" */
    public record Accuracy(String evaluatedOn, Quality quality) {
    }

    /** The uncompressed model as a baseline. */
    public static final String UNCOMPRESSED = "uncompressed";
    /** The recipe's deliberately aggressive reference as a baseline. */
    public static final String AGGRESSIVE_REFERENCE = "aggressive-reference";

    /**
     * A model the variant is compared with. Latency is not measured for baselines (it would double the job's
     * wall-clock time); size and MACs are static and come from the same probe as the variant's.
     *
     * @param role {@link #UNCOMPRESSED} or {@link #AGGRESSIVE_REFERENCE}
     * @param description what the model is, or why there is none
     * @param sha256 of the baseline's bytes; null when it was not built
     * @param stats size, parameters and MACs; null when not built
     * @param sizeRatio file size / base file size; null when not built
     * @param macsRatio MACs / base MACs; null when not built or the base MACs are unknown
     * @param evaluatedOn "validation", or "none" when the job had no validation data
     * @param scores overall first, then one per cohort; empty when not evaluated
     * @param quality the full comparison with the base model (aggressive reference only; the uncompressed model's
     *     own figures are the base columns of the variant's comparison)
     * @param note why a figure is missing, or how to read it; null when there is nothing to say
     */
    public record Baseline(String role, String description, String sha256, ModelStats stats, Double sizeRatio,
            Double macsRatio, String evaluatedOn, List<Score> scores, Quality quality, String note) {
        public Baseline {
            scores = scores == null ? List.of() : List.copyOf(scores);
        }
    }

    /**
     * One slice of a baseline's evaluation.
     *
     * @param slice "overall" or "cohort N"
     * @param percent top-1 accuracy with labels, otherwise top-1 agreement with the base model, in percent
     * @param dropPoints points lost against the base model on the same slice (0 for the base itself)
     */
    public record Score(String slice, int samples, double percent, double dropPoints) {
    }

    /** Wall-clock measurements; not part of the deterministic body. */
    public record Measurements(String note, Latency latency) {
    }

    public Report withoutMeasurements() {
        return new Report(engineVersion, recipe, inputs, variant, decisions, notes, stats, accuracy, baselines, gate,
                null);
    }
}
