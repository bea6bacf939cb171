package io.edgefleet.server.drift;

import io.edgefleet.protocol.drift.ReferenceProfile;

/** What {@code GET .../reference-profile} answers: where the profile came from, and the profile itself. */
public record ReferenceProfileView(String model, long version, String sha256, String source, String dataset,
                                   String datasetSha256, long samples, int features, long createdAt,
                                   ReferenceProfile profile) {

    /** Body of {@code POST .../reference-profile}: a stored dataset, and whether it is validation (default) or calibration data. */
    public record BuildRequest(String dataset, String source) {
    }
}
