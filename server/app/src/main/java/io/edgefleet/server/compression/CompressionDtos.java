package io.edgefleet.server.compression;

import com.fasterxml.jackson.annotation.JsonRawValue;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PositiveOrZero;
import java.util.List;
import java.util.Map;

/** JSON shapes of the dataset and compression-job API. */
public final class CompressionDtos {
    private CompressionDtos() {
    }

    public record ArrayInfo(String name, String dtype, List<Long> shape) {
    }

    public record DatasetView(String name, String sha256, long size, @JsonRawValue String arrays, long sampleCount,
            boolean hasLabels, boolean hasCohort, long createdAt) {

        static DatasetView of(DatasetEntity e) {
            return new DatasetView(e.name, e.sha256, e.size, e.arrays, e.sampleCount, e.hasLabels, e.hasCohort,
                    e.createdAt);
        }
    }

    /** Allowed accuracy drop in percentage points, overall and per cohort. */
    public record Budget(@NotNull @PositiveOrZero Double overallPoints, @NotNull @PositiveOrZero Double cohortPoints) {
    }

    public record JobRequest(
            @NotBlank String recipe,
            String calibrationDataset,
            String validationDataset,
            String deviceClassId,
            @Valid Budget budget,
            Map<String, String> params) {
    }

    public record BaseRef(String model, long version) {
    }

    /**
     * What a finished job produced: the new model version (null when the gate rejected the variant), the gate
     * verdict and the full report, both as the engine wrote them.
     */
    public record JobResult(Long version, JsonNode gate, JsonNode report) {
    }

    public record JobView(
            String id,
            JobStatus status,
            double progress,
            String message,
            String recipe,
            @JsonRawValue String params,
            BaseRef base,
            String calibrationDataset,
            String validationDataset,
            String deviceClassId,
            Budget budget,
            JobResult result,
            String error,
            long createdAt,
            Long startedAt,
            Long finishedAt) {
    }

    /**
     * A recipe and its parameters: {@code parameters} maps each name to its default; {@code parameterSpecs} says
     * what each accepts (a submitted value outside it is refused with 400).
     */
    public record RecipeView(String name, String kind, String description, boolean needsCalibration,
            List<String> passes, Map<String, String> parameters, List<ParameterView> parameterSpecs) {
    }

    /**
     * One recipe parameter.
     *
     * @param type number, integer, boolean, choice or text
     * @param allowed what is accepted: an interval such as {@code (0, 1]} or {@code >= 1}, the allowed words, or a
     *     text rule
     */
    public record ParameterView(String name, String type, String allowed, String defaultValue) {
    }
}
