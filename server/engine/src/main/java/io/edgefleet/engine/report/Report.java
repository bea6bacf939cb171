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
 */
public record Report(String engineVersion, RecipeInfo recipe, Inputs inputs, Artifact variant,
        List<LayerDecision> decisions, List<String> notes, Stats stats, Accuracy accuracy, Verdict gate,
        Measurements measurements) {

    public Report {
        decisions = List.copyOf(decisions);
        notes = List.copyOf(notes);
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

    /** Wall-clock measurements; not part of the deterministic body. */
    public record Measurements(String note, Latency latency) {
    }

    public Report withoutMeasurements() {
        return new Report(engineVersion, recipe, inputs, variant, decisions, notes, stats, accuracy, gate, null);
    }
}
