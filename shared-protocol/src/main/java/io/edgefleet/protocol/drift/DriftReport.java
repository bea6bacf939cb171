package io.edgefleet.protocol.drift;

import io.edgefleet.protocol.Message;
import io.edgefleet.protocol.ReasonCode;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The drift statistics of one telemetry window against a reference profile.
 *
 * @param psi             overall Population Stability Index: the <b>maximum</b> over the features, so that
 *                        a shift in any single input or in the output raises it (a mean would dilute one
 *                        shifted feature among many unshifted ones)
 * @param js              overall Jensen–Shannon distance, likewise the maximum over the features
 * @param confidenceShift mean top-1 confidence in the window minus the reference's; null for non-classifiers
 * @param reference       the profile's source: {@code validation}, {@code calibration} or {@code self}
 * @param samples         inferences binned since the previous report (a window with fewer than the agent's minimum
 *                        carries them into the next, so a report can span several telemetry windows)
 * @param features        per feature, in profile order
 */
@Schema(description = "Drift statistics of one telemetry window against the model's reference profile.")
public record DriftReport(
        @Schema(description = "Population Stability Index: the maximum over the features, so one shifted input "
                + "raises it.")
        double psi,
        @Schema(description = "Jensen-Shannon distance (0..1): the maximum over the features.")
        double js,
        @Schema(description = "Mean top-1 confidence in the window minus the reference's; null for "
                + "non-classifiers.")
        Double confidenceShift,
        @Schema(description = "Where the reference came from: validation, calibration or self.")
        String reference,
        @Schema(description = "Inferences binned since the previous report; can span several telemetry windows on a device that infers slowly.")
        long samples,
        @Schema(description = "Per-feature drift, in profile order.")
        List<FeatureDrift> features) {

    /** Bound on features per report, so a telemetry window stays small. */
    public static final int MAX_FEATURES = ReferenceProfile.MAX_FEATURES + 2;

    public void validate() {
        Message.require(Double.isFinite(psi) && psi >= 0, ReasonCode.INVALID_FIELD, "driftDetail.psi must be finite and >= 0");
        Message.require(Double.isFinite(js) && js >= 0 && js <= 1, ReasonCode.INVALID_FIELD, "driftDetail.js must be in [0, 1]");
        if (confidenceShift != null) {
            Message.require(Double.isFinite(confidenceShift) && Math.abs(confidenceShift) <= 1, ReasonCode.INVALID_FIELD,
                    "driftDetail.confidenceShift must be in [-1, 1]");
        }
        Message.require(samples >= 0, ReasonCode.INVALID_FIELD, "driftDetail.samples must be >= 0");
        Message.require(reference == null || reference.length() <= 32, ReasonCode.INVALID_FIELD,
                "driftDetail.reference is too long");
        if (features != null) {
            Message.require(features.size() <= MAX_FEATURES, ReasonCode.INVALID_FIELD,
                    "driftDetail has more than " + MAX_FEATURES + " features");
            for (FeatureDrift f : features) {
                Message.require(f != null && f.name() != null && f.name().length() <= 200, ReasonCode.INVALID_FIELD,
                        "driftDetail.features need names");
                Message.require(Double.isFinite(f.psi()) && f.psi() >= 0 && Double.isFinite(f.js()) && f.js() >= 0
                        && f.js() <= 1, ReasonCode.INVALID_FIELD, "driftDetail feature '" + f.name() + "' has invalid scores");
            }
        }
    }

    public boolean alert() {
        return psi >= DriftThresholds.PSI_ALERT;
    }
}
