-- Compression: uploaded calibration/validation datasets and asynchronous compression jobs.
-- Portable SQL (H2 2.x and PostgreSQL 12+), epoch-millisecond timestamps as in V1.
-- Dataset bytes and job reports live in the content-addressed blob store; rows hold their sha256.

CREATE TABLE dataset (
    name         VARCHAR(64)  NOT NULL PRIMARY KEY,
    sha256       VARCHAR(64)  NOT NULL,
    size_bytes   BIGINT       NOT NULL,
    -- JSON array of {name, dtype, shape}
    arrays       VARCHAR      NOT NULL,
    sample_count BIGINT       NOT NULL,
    has_labels   BOOLEAN      NOT NULL,
    has_cohort   BOOLEAN      NOT NULL,
    created_at   BIGINT       NOT NULL
);

CREATE TABLE compression_job (
    id                   VARCHAR(64)      NOT NULL PRIMARY KEY,
    model_name           VARCHAR(64)      NOT NULL,
    base_version         BIGINT           NOT NULL,
    recipe               VARCHAR(64)      NOT NULL,
    -- JSON object of recipe parameter overrides
    params               VARCHAR          NOT NULL,
    -- Datasets by name and by the content they had when the job was submitted.
    calibration_dataset  VARCHAR(64),
    calibration_sha256   VARCHAR(64),
    validation_dataset   VARCHAR(64),
    validation_sha256    VARCHAR(64),
    device_class_id      VARCHAR(64),
    budget_overall       DOUBLE PRECISION NOT NULL,
    budget_cohort        DOUBLE PRECISION NOT NULL,
    status               VARCHAR(16)      NOT NULL,
    progress             DOUBLE PRECISION NOT NULL,
    message              VARCHAR(1000),
    error                VARCHAR(4096),
    result_version       BIGINT,
    gate_passed          BOOLEAN,
    gate_summary         VARCHAR(1000),
    report_json_sha256   VARCHAR(64),
    report_md_sha256     VARCHAR(64),
    created_at           BIGINT           NOT NULL,
    started_at           BIGINT,
    finished_at          BIGINT
);
CREATE INDEX ix_compression_job_status ON compression_job (status);
CREATE INDEX ix_compression_job_model ON compression_job (model_name, base_version);
