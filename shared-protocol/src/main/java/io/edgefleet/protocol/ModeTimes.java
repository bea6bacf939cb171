package io.edgefleet.protocol;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * Graceful degradation in one telemetry window (issue 12 part 5): how long the model ran in each mode and,
 * in cascade, how often the light variant's answer was not confident enough and the full model answered.
 *
 * @param fullSeconds       seconds of the window the full model answered
 * @param lightSeconds      seconds the light variant answered alone
 * @param cascadeSeconds    seconds in cascade (light first, full when the light one is unsure)
 * @param cascadeInferences inferences answered in cascade mode
 * @param escalations       of those, the ones the full model answered
 * @param escalationRate    {@code escalations / cascadeInferences}, null without cascade inferences
 * @param mode              the mode at the end of the window: {@code full}, {@code light} or {@code cascade}
 */
@Schema(description = "Graceful degradation in one telemetry window: time per mode and the cascade escalation rate.")
public record ModeTimes(
        @Schema(description = "Seconds of the window the full model answered.")
        double fullSeconds,
        @Schema(description = "Seconds the light fallback answered alone.")
        double lightSeconds,
        @Schema(description = "Seconds in cascade (light first, full when the light one is unsure).")
        double cascadeSeconds,
        @Schema(description = "Inferences answered in cascade mode.")
        long cascadeInferences,
        @Schema(description = "Cascade inferences the full model answered (the light one's top-1 confidence was under "
                + "the threshold).")
        long escalations,
        @Schema(description = "escalations / cascadeInferences; null without cascade inferences.")
        Double escalationRate,
        @Schema(description = "The mode at the end of the window: full, light or cascade.")
        String mode) {

    /** Modes a window may name. */
    public static final java.util.Set<String> MODES = java.util.Set.of("full", "light", "cascade");

    void validate() {
        for (double s : new double[] {fullSeconds, lightSeconds, cascadeSeconds}) {
            Message.require(Double.isFinite(s) && s >= 0, ReasonCode.INVALID_FIELD,
                    "fields 'modes.*Seconds' must be finite and >= 0");
        }
        Message.require(cascadeInferences >= 0 && escalations >= 0 && escalations <= cascadeInferences,
                ReasonCode.INVALID_FIELD, "field 'modes.escalations' must be between 0 and 'modes.cascadeInferences'");
        if (escalationRate != null) {
            Message.require(escalationRate >= 0 && escalationRate <= 1, ReasonCode.INVALID_FIELD,
                    "field 'modes.escalationRate' must be in [0, 1]");
        }
        Message.require(mode == null || MODES.contains(mode), ReasonCode.INVALID_FIELD,
                "field 'modes.mode' must be one of " + MODES);
    }
}
