-- edgefleet schema v1. Portable SQL: runs unchanged on H2 2.x and PostgreSQL 12+.
-- Timestamps are epoch milliseconds (BIGINT) so both databases and the MQTT messages agree on them.
-- JSON documents (model inputs/outputs, last telemetry) are stored as unbounded VARCHAR.

CREATE TABLE device_class (
    id                      VARCHAR(64)      NOT NULL PRIMARY KEY,
    name                    VARCHAR(200)     NOT NULL,
    arch                    VARCHAR(32)      NOT NULL,
    cores                   INTEGER          NOT NULL,
    ram_mb                  BIGINT           NOT NULL,
    storage_mb              BIGINT           NOT NULL,
    precisions              VARCHAR(64)      NOT NULL,
    idle_watts              DOUBLE PRECISION,
    active_watts            DOUBLE PRECISION,
    slo_p95_latency_ms      DOUBLE PRECISION NOT NULL,
    slo_max_model_bytes     BIGINT           NOT NULL,
    slo_max_energy_mj       DOUBLE PRECISION,
    accuracy_overall_points DOUBLE PRECISION NOT NULL,
    accuracy_cohort_points  DOUBLE PRECISION NOT NULL,
    created_at              BIGINT           NOT NULL,
    updated_at              BIGINT           NOT NULL
);

CREATE TABLE device (
    id                    VARCHAR(64)  NOT NULL PRIMARY KEY,
    class_id              VARCHAR(64)  NOT NULL REFERENCES device_class (id),
    -- Mosquitto $7$ PBKDF2-SHA512 hash; NULL once the credential is revoked.
    credential_hash       VARCHAR(200),
    credential_updated_at BIGINT       NOT NULL,
    online                BOOLEAN      NOT NULL,
    last_seen             BIGINT,
    status_ts             BIGINT,
    agent_version         VARCHAR(64),
    active_model          VARCHAR(64),
    active_version        BIGINT,
    active_sha256         VARCHAR(64),
    standby_model         VARCHAR(64),
    standby_version       BIGINT,
    standby_sha256        VARCHAR(64),
    last_telemetry        VARCHAR,
    created_at            BIGINT       NOT NULL
);
CREATE INDEX ix_device_class ON device (class_id);

CREATE TABLE device_tag (
    device_id VARCHAR(64) NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    tag       VARCHAR(64) NOT NULL,
    PRIMARY KEY (device_id, tag)
);
CREATE INDEX ix_device_tag_tag ON device_tag (tag);

CREATE SEQUENCE device_event_seq START WITH 1 INCREMENT BY 50;
CREATE TABLE device_event (
    id            BIGINT        NOT NULL PRIMARY KEY,
    device_id     VARCHAR(64)   NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    message_id    VARCHAR(128)  NOT NULL,
    event_type    VARCHAR(32)   NOT NULL,
    deployment_id VARCHAR(64),
    model_name    VARCHAR(64),
    model_version BIGINT,
    model_sha256  VARCHAR(64),
    reason        VARCHAR(32)   NOT NULL,
    detail        VARCHAR(4096),
    progress      DOUBLE PRECISION,
    ts            BIGINT        NOT NULL,
    received_at   BIGINT        NOT NULL
);
CREATE INDEX ix_device_event_device ON device_event (device_id, id);

CREATE SEQUENCE telemetry_window_seq START WITH 1 INCREMENT BY 50;
CREATE TABLE telemetry_window (
    id            BIGINT           NOT NULL PRIMARY KEY,
    device_id     VARCHAR(64)      NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    message_id    VARCHAR(128)     NOT NULL,
    seq           BIGINT           NOT NULL,
    window_start  BIGINT           NOT NULL,
    window_end    BIGINT           NOT NULL,
    model_name    VARCHAR(64),
    model_version BIGINT,
    model_sha256  VARCHAR(64),
    inferences    BIGINT           NOT NULL,
    errors        BIGINT           NOT NULL,
    latency_p50   DOUBLE PRECISION,
    latency_p95   DOUBLE PRECISION,
    latency_p99   DOUBLE PRECISION,
    latency_max   DOUBLE PRECISION,
    latency_mean  DOUBLE PRECISION,
    energy_mj     DOUBLE PRECISION,
    drift         DOUBLE PRECISION,
    dropped       BIGINT           NOT NULL,
    replayed      BOOLEAN          NOT NULL,
    received_at   BIGINT           NOT NULL
);
CREATE INDEX ix_telemetry_device ON telemetry_window (device_id, id);

CREATE SEQUENCE model_version_seq START WITH 1 INCREMENT BY 50;
CREATE TABLE model_version (
    id             BIGINT       NOT NULL PRIMARY KEY,
    name           VARCHAR(64)  NOT NULL,
    version        BIGINT       NOT NULL,
    sha256         VARCHAR(64)  NOT NULL,
    size_bytes     BIGINT       NOT NULL,
    ir_version     BIGINT       NOT NULL,
    opset          BIGINT       NOT NULL,
    producer       VARCHAR(200),
    inputs         VARCHAR      NOT NULL,
    outputs        VARCHAR      NOT NULL,
    -- Lineage, set by the compression engine for derived variants; NULL for uploads.
    parent_version BIGINT,
    recipe         VARCHAR,
    created_at     BIGINT       NOT NULL,
    CONSTRAINT uq_model_version UNIQUE (name, version)
);
CREATE INDEX ix_model_version_sha ON model_version (sha256);

CREATE TABLE deployment (
    id                        VARCHAR(64)      NOT NULL PRIMARY KEY,
    model_name                VARCHAR(64)      NOT NULL,
    model_version             BIGINT           NOT NULL,
    sha256                    VARCHAR(64)      NOT NULL,
    size_bytes                BIGINT           NOT NULL,
    target_class_id           VARCHAR(64),
    status                    VARCHAR(16)      NOT NULL,
    -- NULL: each target uses its own class's p95 SLO (device lists spanning several classes).
    health_max_p95_latency_ms DOUBLE PRECISION,
    health_max_error_rate     DOUBLE PRECISION NOT NULL,
    health_windows            INTEGER          NOT NULL,
    health_min_inferences     INTEGER          NOT NULL,
    rollback_reason           VARCHAR(1000),
    rollback_requested_at     BIGINT,
    created_at                BIGINT           NOT NULL,
    updated_at                BIGINT           NOT NULL
);
CREATE INDEX ix_deployment_status ON deployment (status);

CREATE SEQUENCE deployment_target_seq START WITH 1 INCREMENT BY 50;
CREATE TABLE deployment_target (
    id            BIGINT        NOT NULL PRIMARY KEY,
    deployment_id VARCHAR(64)   NOT NULL REFERENCES deployment (id) ON DELETE CASCADE,
    device_id     VARCHAR(64)   NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    class_id      VARCHAR(64)   NOT NULL,
    state         VARCHAR(16)   NOT NULL,
    reason        VARCHAR(32),
    detail        VARCHAR(4096),
    activated     BOOLEAN       NOT NULL,
    command_id    VARCHAR(128),
    sent_at       BIGINT,
    updated_at    BIGINT        NOT NULL,
    CONSTRAINT uq_deployment_target UNIQUE (deployment_id, device_id)
);
CREATE INDEX ix_deployment_target_device ON deployment_target (device_id, state);

-- Artifacts currently retained on the broker, so they can be cleared when no rollout needs them,
-- also after a restart.
CREATE TABLE published_artifact (
    class_id     VARCHAR(64) NOT NULL,
    sha256       VARCHAR(64) NOT NULL,
    chunk_size   INTEGER     NOT NULL,
    chunk_count  INTEGER     NOT NULL,
    published_at BIGINT      NOT NULL,
    PRIMARY KEY (class_id, sha256)
);
