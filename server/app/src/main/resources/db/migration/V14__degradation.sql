-- Graceful degradation (issue 12 part 5): the light fallback a deployment ships beside its model, and the time per
-- mode and cascade escalations each telemetry window reports. Portable SQL (H2 2.x and PostgreSQL 12+).

-- The fallback version of the same model (gated, smaller); NULL: the deployment ships none.
ALTER TABLE deployment ADD COLUMN fallback_version BIGINT;
ALTER TABLE deployment ADD COLUMN fallback_sha256 VARCHAR(64);
ALTER TABLE deployment ADD COLUMN fallback_size BIGINT;

-- NULL on windows of models without a fallback, and from agents before graceful degradation.
ALTER TABLE telemetry_window ADD COLUMN mode_full_seconds DOUBLE PRECISION;
ALTER TABLE telemetry_window ADD COLUMN mode_light_seconds DOUBLE PRECISION;
ALTER TABLE telemetry_window ADD COLUMN mode_cascade_seconds DOUBLE PRECISION;
ALTER TABLE telemetry_window ADD COLUMN cascade_inferences BIGINT;
ALTER TABLE telemetry_window ADD COLUMN cascade_escalations BIGINT;
ALTER TABLE telemetry_window ADD COLUMN escalation_rate DOUBLE PRECISION;
-- full | light | cascade: the mode at the end of the window
ALTER TABLE telemetry_window ADD COLUMN degradation_mode VARCHAR(8);
