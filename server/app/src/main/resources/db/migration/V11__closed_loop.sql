-- The closed loop: the per-class switch and the audit trail linking each alert to the re-plan, the variant and the
-- canary deployment it caused. Portable SQL (H2 2.x and PostgreSQL 12+), epoch-millisecond timestamps as in V1.

-- One row per class whose loop settings were set; a class without a row uses edgefleet.loop.default-mode.
CREATE TABLE class_loop (
    class_id            VARCHAR(64)   NOT NULL PRIMARY KEY,
    -- AUTOMATIC | APPROVE | OFF
    mode                VARCHAR(16)   NOT NULL,
    -- the operator's fresh data for recalibration when no device captured any
    fresh_dataset       VARCHAR(64),
    -- set when repeated rollbacks backed the class off; cleared when an operator sets the mode again
    backed_off_at       BIGINT,
    backed_off_reason   VARCHAR(1000),
    updated_at          BIGINT        NOT NULL
);

CREATE TABLE loop_run (
    id                     VARCHAR(64)   NOT NULL PRIMARY KEY,
    class_id               VARCHAR(64),
    model_name             VARCHAR(64),
    -- the unpruned version the re-plan starts from, and the class's variant when the alert fired
    base_version           BIGINT,
    from_version           BIGINT,
    from_candidate         VARCHAR(200),
    -- the plan that chose the current variant: its datasets, budget and parameters are the re-plan's
    from_plan_id           VARCHAR(64),
    -- what caused it
    alert_id               BIGINT,
    rule_id                VARCHAR(64),
    request_id             BIGINT,
    metric                 VARCHAR(32),
    alert_fired_at         BIGINT,
    -- LoopMode at the time of the decision, LoopStrategy, LoopState
    mode                   VARCHAR(16)   NOT NULL,
    strategy               VARCHAR(16),
    state                  VARCHAR(24)   NOT NULL,
    reason                 VARCHAR(1000) NOT NULL,
    calibration_dataset    VARCHAR(64),
    -- JSON array of the candidate ids the re-plan searched
    candidates             VARCHAR,
    plan_job_id            VARCHAR(64),
    result_version         BIGINT,
    choice                 VARCHAR(200),
    deployment_id          VARCHAR(64),
    outcome                VARCHAR(1000),
    decided_by             VARCHAR(200),
    -- JSON array of {at, state, note}: every transition
    history                VARCHAR       NOT NULL,
    created_at             BIGINT        NOT NULL,
    approved_at            BIGINT,
    plan_submitted_at      BIGINT,
    plan_finished_at       BIGINT,
    deployment_created_at  BIGINT,
    canary_committed_at    BIGINT,
    finished_at            BIGINT,
    updated_at             BIGINT        NOT NULL
);
CREATE INDEX ix_loop_run_class ON loop_run (class_id, created_at);
CREATE INDEX ix_loop_run_state ON loop_run (state);
