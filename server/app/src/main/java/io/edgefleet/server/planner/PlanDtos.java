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
    public record PlanRequest(
            @NotBlank String deviceClassId,
            String validationDataset,
            String calibrationDataset,
            @Valid Budget budget,
            Map<String, String> params,
            Map<String, Integer> batchAxis) {
    }

    /** Every field optional; the server's defaults (edgefleet.planner.*) fill the rest. */
    public record Budget(
            @Min(1) @Max(100) Integer maxCandidates,
            @DecimalMin(value = "0", inclusive = false) @DecimalMax("1440") Double maxMinutes,
            @DecimalMax(value = "1", inclusive = false) Double earlyStopMargin,
            @PositiveOrZero Double tiePoints,
            @Min(0) @Max(10000) Integer latencyRuns) {
    }

    public record ModelRef(String model, long version) {
    }

    /**
     * @param plan the plan JSON once the search finished (see docs/planner.md)
     * @param resultVersion the chosen variant's new model version; null without a choice
     */
    public record PlanView(String id, PlanStatus status, double progress, String message, ModelRef base,
            String deviceClassId, String calibrationDataset, String validationDataset, String choice,
            Long resultVersion, JsonNode plan, String error, long createdAt, Long startedAt, Long finishedAt) {
    }

    public record LineageView(String role, Long modelVersion, String sha256, String baseSha256, long parentVersion,
            String recipe, JsonNode params, String calibrationSha256, String validationSha256, String engineVersion,
            JsonNode metrics, String description, String planId, long createdAt) {
    }

    /** One registry row with its lineage and baselines. */
    public record VariantView(String model, String deviceClassId, long version, String planId, LineageView lineage,
            List<LineageView> baselines, long updatedAt) {
    }
}
