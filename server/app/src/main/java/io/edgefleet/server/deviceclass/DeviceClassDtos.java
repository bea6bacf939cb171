package io.edgefleet.server.deviceclass;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** JSON shapes of the device-class API. */
public final class DeviceClassDtos {
    private DeviceClassDtos() {
    }

    /** Body of POST (id required) and PUT (id optional, must match the path). */
    @Schema(description = "A device class: hardware, supported precisions and the SLOs its models must meet.")
    public record DeviceClassRequest(
            @Schema(description = "Class id (required on POST; on PUT optional and must match the path).")
            String id,
            @Schema(description = "Display name, at most 200 characters.")
            @Size(max = 200) String name,
            @Schema(description = "CPU architecture, e.g. x86_64, aarch64, armv7.")
            @NotBlank @Size(max = 32) String arch,
            @Schema(description = "CPU cores available to inference, 1..4096.")
            @NotNull @Min(1) @Max(4096) Integer cores,
            @Schema(description = "RAM in MiB.")
            @NotNull @Positive Long ramMb,
            @Schema(description = "Storage for models in MiB.")
            @NotNull @Positive Long storageMb,
            @Schema(description = "Numeric precisions the hardware runs, e.g. fp32, fp16, int8.")
            @NotEmpty List<@NotBlank String> precisions,
            @Schema(description = "Power draw, to estimate energy per inference; optional.")
            @Valid Power power,
            @Schema(description = "Service level objectives every model for the class must meet.")
            @NotNull @Valid Slo slo,
            @Schema(description = "Accuracy a compressed variant may lose; optional (server default).")
            @Valid AccuracyBudget accuracyBudget,
            @Schema(description = "Whether the hardware computes in fp16 natively (planner); optional.")
            Boolean fp16Arithmetic,
            @Schema(description = "Measured latency on the server times this estimates the device's (planner); "
                    + "> 0, optional.")
            @DecimalMin(value = "0", inclusive = false) Double latencyScale) {

        /** The request without the planner's optional fields (fp16Arithmetic, latencyScale). */
        public DeviceClassRequest(String id, String name, String arch, Integer cores, Long ramMb, Long storageMb,
                List<String> precisions, Power power, Slo slo, AccuracyBudget accuracyBudget) {
            this(id, name, arch, cores, ramMb, storageMb, precisions, power, slo, accuracyBudget, null, null);
        }
    }

    @Schema(description = "Power draw of a device of the class.")
    public record Power(
            @Schema(description = "Watts when idle (>= 0).")
            @NotNull @PositiveOrZero Double idleWatts,
            @Schema(description = "Watts while inferring (>= 0).")
            @NotNull @PositiveOrZero Double activeWatts) {
    }

    /**
     * @param p95LatencyMs  latency objective per inference, milliseconds
     * @param maxModelBytes largest artifact a device of the class may store
     * @param maxEnergyMj   energy budget per inference in millijoules, optional
     */
    @Schema(description = "Service level objectives of a device class.")
    public record Slo(
            @Schema(description = "p95 inference latency objective, milliseconds (> 0).")
            @NotNull @DecimalMin(value = "0", inclusive = false) Double p95LatencyMs,
            @Schema(description = "Largest model artifact a device may store, bytes.")
            @NotNull @Positive Long maxModelBytes,
            @Schema(description = "Energy budget per inference, millijoules; optional.")
            @DecimalMin(value = "0", inclusive = false) Double maxEnergyMj) {
    }

    /** Accuracy loss a compressed variant may cost, in percentage points, overall and per cohort. */
    @Schema(description = "Accuracy loss a compressed variant may cost, in percentage points.")
    public record AccuracyBudget(
            @Schema(description = "Largest overall accuracy drop, 0..100 points.")
            @NotNull @PositiveOrZero @Max(100) Double overallPoints,
            @Schema(description = "Largest drop within any cohort, 0..100 points.")
            @NotNull @PositiveOrZero @Max(100) Double cohortPoints) {
    }

    @Schema(description = "A stored device class.")
    public record DeviceClassView(
            @Schema(description = "Class id.")
            String id,
            @Schema(description = "Display name.")
            String name,
            @Schema(description = "CPU architecture.")
            String arch,
            @Schema(description = "CPU cores.")
            int cores,
            @Schema(description = "RAM in MiB.")
            long ramMb,
            @Schema(description = "Storage in MiB.")
            long storageMb,
            @Schema(description = "Supported precisions.")
            List<String> precisions,
            @Schema(description = "Power draw; null when not given.")
            Power power,
            @Schema(description = "Its SLOs.")
            Slo slo,
            @Schema(description = "Its accuracy budget.")
            AccuracyBudget accuracyBudget,
            @Schema(description = "Creation time, epoch milliseconds.")
            long createdAt,
            @Schema(description = "Last change, epoch milliseconds.")
            long updatedAt,
            @Schema(description = "Whether the hardware computes in fp16 natively; null when not given.")
            Boolean fp16Arithmetic,
            @Schema(description = "Server-to-device latency factor; null when not given.")
            Double latencyScale) {

        static DeviceClassView of(DeviceClassEntity e) {
            return new DeviceClassView(e.id, e.name, e.arch, e.cores, e.ramMb, e.storageMb,
                    List.of(e.precisions.split(",")),
                    e.idleWatts == null ? null : new Power(e.idleWatts, e.activeWatts),
                    new Slo(e.sloP95LatencyMs, e.sloMaxModelBytes, e.sloMaxEnergyMj),
                    new AccuracyBudget(e.accuracyOverallPoints, e.accuracyCohortPoints),
                    e.createdAt, e.updatedAt, e.fp16Arithmetic, e.latencyScale);
        }
    }
}
