-- Planner: plan jobs per (model version, device class), the class-variant registry and the lineage of every
-- variant and baseline it records. Portable SQL (H2 2.x and PostgreSQL 12+), epoch-millisecond timestamps as in V1.

-- What the planner reads from a class beyond V1's columns: float16 arithmetic (null: not declared, storage only)
-- and the declared latency scale against the server's own measurement (null: 1).
ALTER TABLE device_class ADD COLUMN fp16_arithmetic BOOLEAN;
ALTER TABLE device_class ADD COLUMN latency_scale DOUBLE PRECISION;

CREATE TABLE plan_job (
    id                   VARCHAR(64)      NOT NULL PRIMARY KEY,
    model_name           VARCHAR(64)      NOT NULL,
    base_version         BIGINT           NOT NULL,
    device_class_id      VARCHAR(64)      NOT NULL,
    calibration_dataset  VARCHAR(64),
    calibration_sha256   VARCHAR(64),
    validation_dataset   VARCHAR(64)      NOT NULL,
    validation_sha256    VARCHAR(64)      NOT NULL,
    -- JSON: budget, common recipe parameters, batch axes, as submitted
    request              VARCHAR          NOT NULL,
    status               VARCHAR(16)      NOT NULL,
    progress             DOUBLE PRECISION NOT NULL,
    message              VARCHAR(1000),
    error                VARCHAR(4096),
    choice               VARCHAR(200),
    result_version       BIGINT,
    plan_json_sha256     VARCHAR(64),
    plan_html_sha256     VARCHAR(64),
    created_at           BIGINT           NOT NULL,
    started_at           BIGINT,
    finished_at          BIGINT
);
CREATE INDEX ix_plan_job_status ON plan_job (status);
CREATE INDEX ix_plan_job_model_class ON plan_job (model_name, device_class_id);

-- One row per model a plan recorded: the chosen variant, the uncompressed base and the aggressive reference.
CREATE TABLE variant_lineage (
    id                   VARCHAR(64)      NOT NULL PRIMARY KEY,
    plan_job_id          VARCHAR(64)      NOT NULL,
    model_name           VARCHAR(64)      NOT NULL,
    device_class_id      VARCHAR(64)      NOT NULL,
    -- chosen | uncompressed | aggressive-reference
    role                 VARCHAR(32)      NOT NULL,
    -- the registered model version (chosen: the new version; uncompressed: the base); null when not stored
    model_version        BIGINT,
    sha256               VARCHAR(64),
    base_sha256          VARCHAR(64)      NOT NULL,
    parent_version       BIGINT           NOT NULL,
    recipe               VARCHAR(64),
    -- JSON object of recipe parameters
    params               VARCHAR,
    calibration_sha256   VARCHAR(64),
    validation_sha256    VARCHAR(64)      NOT NULL,
    engine_version       VARCHAR(64)      NOT NULL,
    -- JSON object: accuracy, drops, bytes, MACs, device latency and energy estimates and their sources
    metrics              VARCHAR          NOT NULL,
    description          VARCHAR(1000),
    created_at           BIGINT           NOT NULL
);
CREATE INDEX ix_variant_lineage_plan ON variant_lineage (plan_job_id);

-- The registry: model -> class -> the variant chosen for it (latest plan with a choice). Nothing deploys from here
-- on its own.
CREATE TABLE class_variant (
    id                       VARCHAR(200) NOT NULL PRIMARY KEY,
    model_name               VARCHAR(64)  NOT NULL,
    device_class_id          VARCHAR(64)  NOT NULL,
    model_version            BIGINT       NOT NULL,
    plan_job_id              VARCHAR(64)  NOT NULL,
    lineage_id               VARCHAR(64)  NOT NULL,
    uncompressed_lineage_id  VARCHAR(64),
    reference_lineage_id     VARCHAR(64),
    updated_at               BIGINT       NOT NULL,
    CONSTRAINT uq_class_variant UNIQUE (model_name, device_class_id)
);
CREATE INDEX ix_class_variant_class ON class_variant (device_class_id);
