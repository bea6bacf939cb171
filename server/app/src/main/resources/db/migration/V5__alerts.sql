-- Alerts: rules as data, the alert lifecycle with its history, re-compression requests, and the
-- hourly telemetry rollups that outlive raw windows. Portable SQL (H2 2.x and PostgreSQL 12+),
-- epoch-millisecond timestamps as in V1.

CREATE TABLE alert_rule (
    id               VARCHAR(64)      NOT NULL PRIMARY KEY,
    -- The alertname label: what receivers group and route on, and the runbook page's name.
    name             VARCHAR(128)     NOT NULL,
    metric           VARCHAR(32)      NOT NULL,
    scope            VARCHAR(16)      NOT NULL,
    class_id         VARCHAR(64),
    model_name       VARCHAR(64),
    model_version    BIGINT,
    device_id        VARCHAR(64),
    -- NULL: the class SLO (latency, energy) or the metric's default.
    threshold        DOUBLE PRECISION,
    min_samples      BIGINT           NOT NULL,
    lookback_seconds BIGINT           NOT NULL,
    for_seconds      BIGINT           NOT NULL,
    severity         VARCHAR(16)      NOT NULL,
    action           VARCHAR(16)      NOT NULL,
    runbook_url      VARCHAR(1000),
    description      VARCHAR(1000),
    enabled          BOOLEAN          NOT NULL,
    -- Seeded from the class SLOs (edgefleet.alerts.default-rules); edits are kept across restarts.
    builtin          BOOLEAN          NOT NULL,
    created_at       BIGINT           NOT NULL,
    updated_at       BIGINT           NOT NULL
);

CREATE SEQUENCE alert_seq START WITH 1 INCREMENT BY 50;
CREATE TABLE alert (
    id            BIGINT           NOT NULL PRIMARY KEY,
    rule_id       VARCHAR(64)      NOT NULL,
    name          VARCHAR(128)     NOT NULL,
    severity      VARCHAR(16)      NOT NULL,
    fingerprint   VARCHAR(16)      NOT NULL,
    -- rule id + fingerprint while PENDING or FIRING, NULL once RESOLVED: at most one open alert
    -- per rule and scope (the de-duplication), any number of resolved ones (the history).
    open_key      VARCHAR(96),
    state         VARCHAR(16)      NOT NULL,
    -- JSON objects
    labels        VARCHAR          NOT NULL,
    annotations   VARCHAR          NOT NULL,
    observed      DOUBLE PRECISION,
    threshold     DOUBLE PRECISION,
    active_at     BIGINT           NOT NULL,
    fired_at      BIGINT,
    resolved_at   BIGINT,
    action_result VARCHAR(1000),
    updated_at    BIGINT           NOT NULL,
    CONSTRAINT uq_alert_open UNIQUE (open_key)
);
CREATE INDEX ix_alert_state ON alert (state, id);

CREATE SEQUENCE recompression_request_seq START WITH 1 INCREMENT BY 50;
CREATE TABLE recompression_request (
    id            BIGINT        NOT NULL PRIMARY KEY,
    alert_id      BIGINT        NOT NULL,
    rule_id       VARCHAR(64)   NOT NULL,
    class_id      VARCHAR(64),
    model_name    VARCHAR(64),
    model_version BIGINT,
    reason        VARCHAR(1000) NOT NULL,
    -- OPEN until the planner takes it
    status        VARCHAR(16)   NOT NULL,
    created_at    BIGINT        NOT NULL
);

-- Rule evaluation and rollups read windows by time across all devices.
CREATE INDEX ix_telemetry_window_end ON telemetry_window (window_end);
CREATE INDEX ix_telemetry_received ON telemetry_window (received_at);

-- Hourly rollups. A window belongs to the hour its window_end falls in. No model is '' / 0 so the
-- key can be a primary key on both databases. energy_mj_total is the sum of energyMj x inferences
-- over the windows that report energy, energy_inferences their inferences.
CREATE TABLE telemetry_hourly_device (
    device_id         VARCHAR(64)      NOT NULL,
    hour_start        BIGINT           NOT NULL,
    model_name        VARCHAR(64)      NOT NULL,
    model_version     BIGINT           NOT NULL,
    windows           BIGINT           NOT NULL,
    inferences        BIGINT           NOT NULL,
    errors            BIGINT           NOT NULL,
    latency_p95_max   DOUBLE PRECISION,
    energy_mj_total   DOUBLE PRECISION NOT NULL,
    energy_inferences BIGINT           NOT NULL,
    drift_max         DOUBLE PRECISION,
    PRIMARY KEY (device_id, hour_start, model_name, model_version)
);
CREATE INDEX ix_hourly_device_hour ON telemetry_hourly_device (hour_start);

CREATE TABLE telemetry_hourly_class (
    class_id          VARCHAR(64)      NOT NULL,
    hour_start        BIGINT           NOT NULL,
    model_name        VARCHAR(64)      NOT NULL,
    model_version     BIGINT           NOT NULL,
    windows           BIGINT           NOT NULL,
    devices           BIGINT           NOT NULL,
    inferences        BIGINT           NOT NULL,
    errors            BIGINT           NOT NULL,
    latency_p95_max   DOUBLE PRECISION,
    energy_mj_total   DOUBLE PRECISION NOT NULL,
    energy_inferences BIGINT           NOT NULL,
    drift_max         DOUBLE PRECISION,
    PRIMARY KEY (class_id, hour_start, model_name, model_version)
);
CREATE INDEX ix_hourly_class_hour ON telemetry_hourly_class (hour_start);

-- The rollup job's progress (one row): hours before rolled_to are rolled up; windows received up to
-- received_to have been seen (a later-received window re-computes its hour).
CREATE TABLE telemetry_rollup_state (
    id          INTEGER NOT NULL PRIMARY KEY,
    rolled_to   BIGINT  NOT NULL,
    received_to BIGINT  NOT NULL
);
INSERT INTO telemetry_rollup_state (id, rolled_to, received_to) VALUES (1, 0, 0);
