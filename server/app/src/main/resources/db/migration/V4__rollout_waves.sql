-- Rollout waves (issue 14): the deployment's policy and wave progress are persisted so a restarted server
-- resumes a rollout where it stopped. Portable SQL: one column per statement for H2 and PostgreSQL alike.

-- The resolved policy as JSON (canary, batches, soak, success condition, gates, abort rule, target timeout).
ALTER TABLE deployment ADD COLUMN policy VARCHAR;
-- Tags a class/tag target selects on (comma separated), so devices joining later are matched too.
ALTER TABLE deployment ADD COLUMN target_tags VARCHAR(1000);
ALTER TABLE deployment ADD COLUMN wave_current INTEGER NOT NULL DEFAULT 1;
ALTER TABLE deployment ADD COLUMN wave_count INTEGER NOT NULL DEFAULT 1;
-- DEPLOYING, SOAKING or GATING while a wave runs.
ALTER TABLE deployment ADD COLUMN wave_phase VARCHAR(16) NOT NULL DEFAULT 'DEPLOYING';
ALTER TABLE deployment ADD COLUMN wave_started_at BIGINT;
ALTER TABLE deployment ADD COLUMN soak_started_at BIGINT;
ALTER TABLE deployment ADD COLUMN paused_at BIGINT;
-- Why it halted: the rule, the numbers, and the devices sent back (JSON array).
ALTER TABLE deployment ADD COLUMN halt_rule VARCHAR(64);
ALTER TABLE deployment ADD COLUMN halt_detail VARCHAR(4000);
ALTER TABLE deployment ADD COLUMN halt_devices VARCHAR;
-- The last gate evaluation (JSON), shown in GET.
ALTER TABLE deployment ADD COLUMN gate_results VARCHAR;
ALTER TABLE deployment ADD COLUMN ended_at BIGINT;

-- The wave a target belongs to (1 = the canary), when it must have finished, and the rollback a halt sent it.
ALTER TABLE deployment_target ADD COLUMN wave INTEGER NOT NULL DEFAULT 1;
ALTER TABLE deployment_target ADD COLUMN due_at BIGINT;
ALTER TABLE deployment_target ADD COLUMN rollback_due BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE deployment_target ADD COLUMN rollback_command_id VARCHAR(128);
CREATE INDEX ix_deployment_target_wave ON deployment_target (deployment_id, wave, state);
