-- Several models per device: what each model a device holds runs in its active and standby slot and where its
-- update stands, as the device's last ONLINE status said. The device row's active_*/standby_* columns stay as
-- they are (the first model by name, or the only one of an older agent). Portable SQL (H2 2.x and PostgreSQL 12+).
CREATE TABLE device_model (
    device_id       VARCHAR(64)  NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    model_name      VARCHAR(64)  NOT NULL,
    active_model    VARCHAR(64),
    active_version  BIGINT,
    active_sha256   VARCHAR(64),
    standby_model   VARCHAR(64),
    standby_version BIGINT,
    standby_sha256  VARCHAR(64),
    -- IDLE | DOWNLOADING | STAGED | ACTIVATED_UNCOMMITTED | COMMITTED; NULL: an older agent that does not report it
    update_state    VARCHAR(32),
    PRIMARY KEY (device_id, model_name)
);
CREATE INDEX device_model_by_model ON device_model (model_name, active_version);

-- Devices known before this version: their one model, as the device row has it, until their next status.
INSERT INTO device_model (device_id, model_name, active_model, active_version, active_sha256, standby_model,
                          standby_version, standby_sha256, update_state)
SELECT id, active_model, active_model, active_version, active_sha256, standby_model, standby_version, standby_sha256, NULL
FROM device WHERE active_model IS NOT NULL;
