-- Devices measure for the planner (issue 15.2) and opt-in raw capture (issue 12.4). Portable SQL (H2 2.x and
-- PostgreSQL 12+), epoch-millisecond timestamps as in V1.

-- One BENCHMARK request: an artifact (model version) run by N devices of a class, with the server's own
-- single-threaded batch-1 measurement of the same artifact (null until measured).
CREATE TABLE benchmark_job (
    id                 VARCHAR(64)      NOT NULL PRIMARY KEY,
    device_class_id    VARCHAR(64)      NOT NULL,
    model_name         VARCHAR(64)      NOT NULL,
    model_version      BIGINT           NOT NULL,
    sha256             VARCHAR(64)      NOT NULL,
    devices_requested  INTEGER          NOT NULL,
    -- comma-separated device ids the command went to
    devices            VARCHAR(4000)    NOT NULL,
    seconds            INTEGER,
    runs               INTEGER,
    batch              INTEGER          NOT NULL,
    -- RUNNING | COMPLETED | PARTIAL | FAILED
    status             VARCHAR(16)      NOT NULL,
    message            VARCHAR(1000),
    server_p50_ms      DOUBLE PRECISION,
    server_p95_ms      DOUBLE PRECISION,
    server_mean_ms     DOUBLE PRECISION,
    deadline           BIGINT           NOT NULL,
    created_at         BIGINT           NOT NULL,
    finished_at        BIGINT
);
CREATE INDEX ix_benchmark_job_class ON benchmark_job (device_class_id);

-- One device's answer to a benchmark job.
CREATE TABLE benchmark_result (
    id                 VARCHAR(64)      NOT NULL PRIMARY KEY,
    job_id             VARCHAR(64)      NOT NULL,
    device_id          VARCHAR(64)      NOT NULL,
    -- COMPLETED | REFUSED | FAILED
    status             VARCHAR(16)      NOT NULL,
    reason             VARCHAR(32),
    detail             VARCHAR(4096),
    inferences         BIGINT,
    batch              INTEGER,
    seconds            DOUBLE PRECISION,
    p50_ms             DOUBLE PRECISION,
    p95_ms             DOUBLE PRECISION,
    p99_ms             DOUBLE PRECISION,
    max_ms             DOUBLE PRECISION,
    mean_ms            DOUBLE PRECISION,
    energy_mj          DOUBLE PRECISION,
    energy_source      VARCHAR(32),
    received_at        BIGINT           NOT NULL,
    CONSTRAINT uq_benchmark_result UNIQUE (job_id, device_id)
);

-- The class's fitted latency and energy cost model (one row per class, refitted after every benchmark job).
CREATE TABLE class_cost_model (
    device_class_id        VARCHAR(64)      NOT NULL PRIMARY KEY,
    p95_scale              DOUBLE PRECISION NOT NULL,
    p95_offset_ms          DOUBLE PRECISION NOT NULL,
    mean_scale             DOUBLE PRECISION NOT NULL,
    mean_offset_ms         DOUBLE PRECISION NOT NULL,
    energy_mj_per_server_ms DOUBLE PRECISION,
    reports                INTEGER          NOT NULL,
    artifacts              INTEGER          NOT NULL,
    latency_error_percent  DOUBLE PRECISION NOT NULL,
    energy_error_percent   DOUBLE PRECISION,
    fitted_at              BIGINT           NOT NULL
);

-- Per-device opt-in to raw input capture (off unless a row says enabled).
CREATE TABLE device_capture (
    device_id          VARCHAR(64)      NOT NULL PRIMARY KEY,
    enabled            BOOLEAN          NOT NULL,
    rate               DOUBLE PRECISION NOT NULL,
    max_samples        INTEGER          NOT NULL,
    max_bytes          BIGINT           NOT NULL,
    samples_received   BIGINT           NOT NULL,
    bytes_received     BIGINT           NOT NULL,
    updated_at         BIGINT           NOT NULL
);

-- Captured datasets are named capture/{classId}/{modelName}/{yyyyMMddHHmmss}: up to 152 characters, so dataset
-- names and the columns that refer to them grow (SET DATA TYPE is understood by H2 and PostgreSQL alike).
ALTER TABLE dataset ALTER COLUMN name SET DATA TYPE VARCHAR(200);
ALTER TABLE compression_job ALTER COLUMN calibration_dataset SET DATA TYPE VARCHAR(200);
ALTER TABLE compression_job ALTER COLUMN validation_dataset SET DATA TYPE VARCHAR(200);
ALTER TABLE reference_profile ALTER COLUMN dataset SET DATA TYPE VARCHAR(200);
ALTER TABLE plan_job ALTER COLUMN calibration_dataset SET DATA TYPE VARCHAR(200);
ALTER TABLE plan_job ALTER COLUMN validation_dataset SET DATA TYPE VARCHAR(200);
