package io.edgefleet.protocol.drift;

/**
 * The thresholds edgefleet applies to drift scores, following the conventions Evidently and NannyML
 * document: a Population Stability Index under 0.1 means no meaningful shift, 0.1 to 0.2 a moderate
 * shift worth a look, above 0.2 a significant shift; a Jensen–Shannon distance (base 2, in [0, 1])
 * above 0.1 is a shift.
 */
public final class DriftThresholds {
    /** PSI at or above this is a warning. */
    public static final double PSI_WARN = 0.1;
    /** PSI at or above this is an alert. */
    public static final double PSI_ALERT = 0.2;
    /** Jensen–Shannon distance at or above this is an alert. */
    public static final double JS_ALERT = 0.1;

    private DriftThresholds() {
    }

    public static boolean psiAlert(double psi) {
        return psi >= PSI_ALERT;
    }
}
