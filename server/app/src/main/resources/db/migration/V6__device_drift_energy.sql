-- Device-side drift and energy: the models' drift reference profiles, and the energy source, window energy and
-- drift detail each telemetry window reports. Portable SQL (H2 2.x and PostgreSQL 12+).

-- One reference profile per model artifact (content-addressed, like the blobs): it is signed into the manifest
-- of every class the artifact is published to.
CREATE TABLE reference_profile (
    model_sha256    VARCHAR(64)  NOT NULL PRIMARY KEY,
    model_name      VARCHAR(64)  NOT NULL,
    model_version   BIGINT       NOT NULL,
    -- validation | calibration
    source          VARCHAR(16)  NOT NULL,
    dataset         VARCHAR(64)  NOT NULL,
    dataset_sha256  VARCHAR(64)  NOT NULL,
    samples         BIGINT       NOT NULL,
    -- JSON of io.edgefleet.protocol.drift.ReferenceProfile, at most 256 KiB
    profile         VARCHAR      NOT NULL,
    created_at      BIGINT       NOT NULL
);

ALTER TABLE telemetry_window ADD COLUMN energy_source VARCHAR(16);
ALTER TABLE telemetry_window ADD COLUMN energy_joules DOUBLE PRECISION;
ALTER TABLE telemetry_window ADD COLUMN drift_js DOUBLE PRECISION;
ALTER TABLE telemetry_window ADD COLUMN drift_confidence_shift DOUBLE PRECISION;
ALTER TABLE telemetry_window ADD COLUMN drift_reference VARCHAR(16);
-- JSON of io.edgefleet.protocol.drift.DriftReport (per-feature scores)
ALTER TABLE telemetry_window ADD COLUMN drift_detail VARCHAR;
