package io.edgefleet.server.drift;

import io.edgefleet.protocol.drift.ReferenceProfile;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** What {@code GET .../reference-profile} answers: where the profile came from, and the profile itself. */
@Schema(description = "A model version's drift reference profile and where it came from.")
public record ReferenceProfileView(
        @Schema(description = "Model name.")
        String model,
        @Schema(description = "Model version.")
        long version,
        @Schema(description = "SHA-256 of the model artifact.")
        String sha256,
        @Schema(description = "validation or calibration.")
        String source,
        @Schema(description = "The dataset it was built from.")
        String dataset,
        @Schema(description = "SHA-256 of that dataset.")
        String datasetSha256,
        @Schema(description = "Samples used.")
        long samples,
        @Schema(description = "Number of features profiled.")
        int features,
        @Schema(description = "When it was built, epoch milliseconds.")
        long createdAt,
        @Schema(description = "The profile itself, as devices receive it in the signed manifest.")
        ReferenceProfile profile) {

    /** Body of {@code POST .../reference-profile}: a stored dataset, and whether it is validation (default) or calibration data. */
    @Schema(description = "Which stored dataset to build the profile from.")
    public record BuildRequest(
            @Schema(description = "Name of a stored dataset.")
            String dataset,
            @Schema(description = "validation (default) or calibration: what kind of data the dataset is.")
            String source) {
    }
}
