package io.edgefleet.server.planner;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.PositiveOrZero;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** JSON shapes of the planner API. */
public final class PlanDtos {
    private PlanDtos() {
    }

    /**
     * @param params recipe parameters applied to every candidate whose recipe declares them (e.g.
     *     {@code channelMultiple})
     * @param batchAxis per model input, its batch axis when it is not the first (arrays then hold samples along
     *     axis 0 with the batch axis left out)
     */
    @Schema(description = "A plan to start: search compression variants of a model version for one device class "
            + "and choose the best that meets its SLOs.")
    public record PlanRequest(
            @Schema(description = "The device class to plan for.")
            @NotBlank String deviceClassId,
            @Schema(description = "Dataset the accuracy of every candidate is measured on.")
            String validationDataset,
            @Schema(description = "Dataset for recipes that calibrate.")
            String calibrationDataset,
            @Schema(description = "Search limits; every field optional (server defaults edgefleet.planner.*).")
            @Valid Budget budget,
            @Schema(description = "Recipe parameters applied to every candidate whose recipe declares them "
                    + "(e.g. channelMultiple).")
            Map<String, String> params,
            @Schema(description = "Per model input, its batch axis when it is not the first.")
            Map<String, Integer> batchAxis,
            @Schema(description = "Optional: SLO limits that replace the class's for this plan only (the closed "
                    + "loop tightens them after a latency or energy breach measured on devices); left out, the "
                    + "class's SLOs.")
            @Valid Target target) {

        /** The request without a target (the class's own SLOs). */
        public PlanRequest(String deviceClassId, String validationDataset, String calibrationDataset, Budget budget,
                Map<String, String> params, Map<String, Integer> batchAxis) {
            this(deviceClassId, validationDataset, calibrationDataset, budget, params, batchAxis, null);
        }
    }

    /** Limits that replace the class's SLOs for one plan; a field left out keeps the class's. */
    @Schema(name = "PlanTarget", description = "SLO limits for this plan instead of the class's; fields left out keep "
            + "the class's.")
    public record Target(
            @Schema(description = "p95 latency per inference on the device, ms.")
            @DecimalMin(value = "0", inclusive = false) Double p95LatencyMs,
            @Schema(description = "Energy per inference on the device, mJ.")
            @DecimalMin(value = "0", inclusive = false) Double maxEnergyMj) {
    }

    /** Every field optional; the server's defaults (edgefleet.planner.*) fill the rest. */
    @Schema(name = "PlanBudget", description = "Limits of a plan search; fields left out take the server defaults.")
    public record Budget(
            @Schema(description = "Most candidates evaluated, 1..100.")
            @Min(1) @Max(100) Integer maxCandidates,
            @Schema(description = "Wall-clock limit in minutes, up to 1440.")
            @DecimalMin(value = "0", inclusive = false) @DecimalMax("1440") Double maxMinutes,
            @Schema(description = "Stop once a candidate beats every SLO by this relative margin (< 1).")
            @DecimalMax(value = "1", inclusive = false) Double earlyStopMargin,
            @Schema(description = "Accuracy difference (points) under which candidates count as tied; the "
                    + "smaller wins.")
            @PositiveOrZero Double tiePoints,
            @Schema(description = "Timed runs per candidate latency measurement, 0..10000.")
            @Min(0) @Max(10000) Integer latencyRuns) {
    }

    @Schema(name = "PlanModelRef", description = "A model version.")
    public record ModelRef(
            @Schema(description = "Model name.")
            String model,
            @Schema(description = "Model version.")
            long version) {
    }

    /**
     * @param plan the plan JSON once the search finished (see docs/planner.md)
     * @param resultVersion the chosen variant's new model version; null without a choice
     */
    @Schema(description = "A plan job: progress, the chosen variant and the plan itself.")
    public record PlanView(
            @Schema(description = "Plan id.")
            String id,
            @Schema(description = "QUEUED, RUNNING, CHOSEN, NO_CHOICE, FAILED or CANCELLED.")
            PlanStatus status,
            @Schema(description = "Fraction done, 0..1.")
            double progress,
            @Schema(description = "What it is doing now (or did last).")
            String message,
            @Schema(description = "The model version planned from.")
            ModelRef base,
            @Schema(description = "The device class planned for.")
            String deviceClassId,
            @Schema(description = "Calibration dataset, if any.")
            String calibrationDataset,
            @Schema(description = "Validation dataset, if any.")
            String validationDataset,
            @Schema(description = "The chosen candidate's recipe label; null without a choice.")
            String choice,
            @Schema(description = "The chosen variant's new model version; null without a choice.")
            Long resultVersion,
            @Schema(description = "The plan JSON once the search finished: candidates, measurements, Pareto "
                    + "front (docs/planner.md).", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.OBJECT)
            JsonNode plan,
            @Schema(description = "Why it failed; null unless FAILED.")
            String error,
            @Schema(description = "Submission time, epoch milliseconds.")
            long createdAt,
            @Schema(description = "Start time, epoch milliseconds; null while queued.")
            Long startedAt,
            @Schema(description = "End time, epoch milliseconds; null while running.")
            Long finishedAt) {
    }

    @Schema(description = "How a variant (or a baseline) was made and what it measured.")
    public record LineageView(
            @Schema(description = "variant for the chosen one, baseline for the references it was compared "
                    + "with.")
            String role,
            @Schema(description = "Its model version; null for a baseline that was not registered.")
            Long modelVersion,
            @Schema(description = "SHA-256 of its artifact.")
            String sha256,
            @Schema(description = "SHA-256 of the model it was made from.")
            String baseSha256,
            @Schema(description = "The version it was made from.")
            long parentVersion,
            @Schema(description = "Recipe label.")
            String recipe,
            @Schema(description = "Recipe parameters (JSON object).", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.OBJECT)
            JsonNode params,
            @Schema(description = "SHA-256 of the calibration dataset, if any.")
            String calibrationSha256,
            @Schema(description = "SHA-256 of the validation dataset.")
            String validationSha256,
            @Schema(description = "Version of the compression engine that made it.")
            String engineVersion,
            @Schema(description = "What it measured: accuracy, latency, size, energy (JSON object).", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.OBJECT)
            JsonNode metrics,
            @Schema(description = "Human-readable summary.")
            String description,
            @Schema(description = "The plan that made it.")
            String planId,
            @Schema(description = "When it was recorded, epoch milliseconds.")
            long createdAt) {
    }

    /** One registry row with its lineage and baselines. */
    @Schema(description = "The variant chosen for one model on one device class, with lineage and baselines.")
    public record VariantView(
            @Schema(description = "Model name.")
            String model,
            @Schema(description = "Device class.")
            String deviceClassId,
            @Schema(description = "The model version to deploy to the class.")
            long version,
            @Schema(description = "The plan that chose it.")
            String planId,
            @Schema(description = "How it was made and what it measured.")
            LineageView lineage,
            @Schema(description = "The references it was compared with.")
            List<LineageView> baselines,
            @Schema(description = "When it was chosen, epoch milliseconds.")
            long updatedAt) {
    }
}
