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

/** JSON shapes of the device-class API. */
public final class DeviceClassDtos {
    private DeviceClassDtos() {
    }

    /** Body of POST (id required) and PUT (id optional, must match the path). */
    public record DeviceClassRequest(
            String id,
            @Size(max = 200) String name,
            @NotBlank @Size(max = 32) String arch,
            @NotNull @Min(1) @Max(4096) Integer cores,
            @NotNull @Positive Long ramMb,
            @NotNull @Positive Long storageMb,
            @NotEmpty List<@NotBlank String> precisions,
            @Valid Power power,
            @NotNull @Valid Slo slo,
            @Valid AccuracyBudget accuracyBudget,
            Boolean fp16Arithmetic,
            @DecimalMin(value = "0", inclusive = false) Double latencyScale) {

        /** The request without the planner's optional fields (fp16Arithmetic, latencyScale). */
        public DeviceClassRequest(String id, String name, String arch, Integer cores, Long ramMb, Long storageMb,
                List<String> precisions, Power power, Slo slo, AccuracyBudget accuracyBudget) {
            this(id, name, arch, cores, ramMb, storageMb, precisions, power, slo, accuracyBudget, null, null);
        }
    }

    public record Power(@NotNull @PositiveOrZero Double idleWatts, @NotNull @PositiveOrZero Double activeWatts) {
    }

    /**
     * @param p95LatencyMs  latency objective per inference, milliseconds
     * @param maxModelBytes largest artifact a device of the class may store
     * @param maxEnergyMj   energy budget per inference in millijoules, optional
     */
    public record Slo(
            @NotNull @DecimalMin(value = "0", inclusive = false) Double p95LatencyMs,
            @NotNull @Positive Long maxModelBytes,
            @DecimalMin(value = "0", inclusive = false) Double maxEnergyMj) {
    }

    /** Accuracy loss a compressed variant may cost, in percentage points, overall and per cohort. */
    public record AccuracyBudget(
            @NotNull @PositiveOrZero @Max(100) Double overallPoints,
            @NotNull @PositiveOrZero @Max(100) Double cohortPoints) {
    }

    public record DeviceClassView(
            String id,
            String name,
            String arch,
            int cores,
            long ramMb,
            long storageMb,
            List<String> precisions,
            Power power,
            Slo slo,
            AccuracyBudget accuracyBudget,
            long createdAt,
            long updatedAt,
            Boolean fp16Arithmetic,
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
