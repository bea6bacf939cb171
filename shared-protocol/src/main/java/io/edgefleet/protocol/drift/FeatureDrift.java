package io.edgefleet.protocol.drift;

/** Drift of one feature in one window: PSI and Jensen–Shannon distance against the reference bins. */
public record FeatureDrift(String name, double psi, double js) {
}
