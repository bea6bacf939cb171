package io.edgefleet.protocol.drift;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** Drift of one feature in one window: PSI and Jensen–Shannon distance against the reference bins. */
@Schema(description = "Drift of one feature in one window against the reference bins.")
public record FeatureDrift(
        @Schema(description = "Feature name from the reference profile, e.g. pixels.c0.mean.")
        String name,
        @Schema(description = "Population Stability Index of this feature.")
        double psi,
        @Schema(description = "Jensen-Shannon distance (0..1) of this feature.")
        double js) {
}
