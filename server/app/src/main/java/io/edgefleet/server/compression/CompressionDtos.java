package io.edgefleet.server.compression;

import com.fasterxml.jackson.annotation.JsonRawValue;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.PositiveOrZero;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** JSON shapes of the dataset and compression-job API. */
public final class CompressionDtos {
    private CompressionDtos() {
    }

    @Schema(description = "One array of a dataset (.npz member).")
    public record ArrayInfo(
            @Schema(description = "Array name in the .npz (inputs are named after the model inputs; labels, "
                    + "cohort).")
            String name,
            @Schema(description = "NumPy dtype, e.g. float32, int64.")
            String dtype,
            @Schema(description = "Array shape; axis 0 is the sample axis.")
            List<Long> shape) {
    }

    @Schema(description = "A stored dataset (.npz) for calibration, validation or drift reference profiles.")
    public record DatasetView(
            @Schema(description = "Dataset name (unique).")
            String name,
            @Schema(description = "SHA-256 of the .npz bytes.")
            String sha256,
            @Schema(description = "Size in bytes.")
            long size,
            @Schema(description = "The arrays it holds, as ArrayInfo objects.", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.ARRAY, implementation = ArrayInfo.class)
            @JsonRawValue String arrays,
            @Schema(description = "Number of samples (length of axis 0).")
            long sampleCount,
            @Schema(description = "Whether a labels array is present (needed for accuracy gates).")
            boolean hasLabels,
            @Schema(description = "Whether a cohort array is present (per-cohort accuracy).")
            boolean hasCohort,
            @Schema(description = "Upload time, epoch milliseconds.")
            long createdAt) {

        static DatasetView of(DatasetEntity e) {
            return new DatasetView(e.name, e.sha256, e.size, e.arrays, e.sampleCount, e.hasLabels, e.hasCohort,
                    e.createdAt);
        }
    }

    /** Allowed accuracy drop in percentage points, overall and per cohort. */
    @Schema(name = "CompressionBudget", description = "Allowed accuracy drop of a compressed variant, in percentage points.")
    public record Budget(
            @Schema(description = "Largest allowed drop of overall accuracy, percentage points (>= 0).")
            @NotNull @PositiveOrZero Double overallPoints,
            @Schema(description = "Largest allowed drop within any cohort, percentage points (>= 0).")
            @NotNull @PositiveOrZero Double cohortPoints) {
    }

    @Schema(description = "A compression job to start on a model version.")
    public record JobRequest(
            @Schema(description = "Recipe name, one of GET /api/v1/recipes.")
            @NotBlank String recipe,
            @Schema(description = "Dataset for calibration (needed by recipes with needsCalibration).")
            String calibrationDataset,
            @Schema(description = "Dataset the accuracy gate is evaluated on; without it the variant is not "
                    + "gated on accuracy.")
            String validationDataset,
            @Schema(description = "Device class whose SLOs and accuracy budget gate the variant; optional.")
            String deviceClassId,
            @Schema(description = "Accuracy budget; defaults to the device class's, or the server's.")
            @Valid Budget budget,
            @Schema(description = "Recipe parameters by name (values as strings); each must be within the "
                    + "recipe's parameterSpecs.")
            Map<String, String> params) {
    }

    @Schema(description = "The model version a job or plan starts from.")
    public record BaseRef(
            @Schema(description = "Model name.")
            String model,
            @Schema(description = "Model version.")
            long version) {
    }

    /**
     * What a finished job produced: the new model version (null when the gate rejected the variant), the gate
     * verdict and the full report, both as the engine wrote them.
     */
    @Schema(description = "What a finished job produced.")
    public record JobResult(
            @Schema(description = "The new model version; null when the gate rejected the variant.")
            Long version,
            @Schema(description = "The gate verdict as the engine wrote it (JSON object).", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.OBJECT)
            JsonNode gate,
            @Schema(description = "The full compression report as the engine wrote it (JSON object).", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.OBJECT)
            JsonNode report) {
    }

    @Schema(description = "A compression job: its request, progress and result.")
    public record JobView(
            @Schema(description = "Job id.")
            String id,
            @Schema(description = "QUEUED, RUNNING, SUCCEEDED, REJECTED, FAILED or CANCELLED.")
            JobStatus status,
            @Schema(description = "Fraction done, 0..1.")
            double progress,
            @Schema(description = "What the job is doing now (or did last).")
            String message,
            @Schema(description = "Recipe name.")
            String recipe,
            @Schema(description = "The recipe parameters in force (JSON object).", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.OBJECT)
            @JsonRawValue String params,
            @Schema(description = "The model version compressed.")
            BaseRef base,
            @Schema(description = "Calibration dataset name, if any.")
            String calibrationDataset,
            @Schema(description = "Validation dataset name, if any.")
            String validationDataset,
            @Schema(description = "Device class gating the variant, if any.")
            String deviceClassId,
            @Schema(description = "Accuracy budget in force.")
            Budget budget,
            @Schema(description = "What it produced; null until it finished.")
            JobResult result,
            @Schema(description = "Why it failed; null unless FAILED.")
            String error,
            @Schema(description = "Submission time, epoch milliseconds.")
            long createdAt,
            @Schema(description = "Start time, epoch milliseconds; null while queued.")
            Long startedAt,
            @Schema(description = "End time, epoch milliseconds; null while not finished.")
            Long finishedAt) {
    }

    /**
     * A recipe and its parameters: {@code parameters} maps each name to its default; {@code parameterSpecs} says
     * what each accepts (a submitted value outside it is refused with 400).
     */
    @Schema(description = "A compression recipe and its parameters.")
    public record RecipeView(
            @Schema(description = "Recipe name, as given in a job request.")
            String name,
            @Schema(description = "BASELINE (re-exports the model unchanged, the reference) or COMPRESSION.")
            String kind,
            @Schema(description = "What the recipe does and when to use it.")
            String description,
            @Schema(description = "Whether a calibration dataset is required.")
            boolean needsCalibration,
            @Schema(description = "The engine passes it runs, in order.")
            List<String> passes,
            @Schema(description = "Each parameter name with its default value.")
            Map<String, String> parameters,
            @Schema(description = "What each parameter accepts; a value outside it is refused with 400.")
            List<ParameterView> parameterSpecs) {
    }

    /**
     * One recipe parameter.
     *
     * @param type number, integer, boolean, choice or text
     * @param allowed what is accepted: an interval such as {@code (0, 1]} or {@code >= 1}, the allowed words, or a
     *     text rule
     */
    @Schema(description = "One recipe parameter and what it accepts.")
    public record ParameterView(
            @Schema(description = "Parameter name.")
            String name,
            @Schema(description = "number, integer, boolean, choice or text.")
            String type,
            @Schema(description = "What is accepted: an interval such as (0, 1] or >= 1, the allowed words, or "
                    + "a text rule.")
            String allowed,
            @Schema(description = "The value used when the request does not give one.")
            String defaultValue) {
    }
}
