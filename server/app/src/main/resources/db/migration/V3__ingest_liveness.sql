-- Ingest and liveness (issue 11). Portable SQL: runs unchanged on H2 2.x and PostgreSQL 12+.

-- A telemetry window or event is stored once per (device, message id): QoS 1 redeliveries and agent replays of a
-- window the server already committed hit the constraint and are counted as duplicates. Copies stored before
-- this version are removed first, keeping the oldest row.
DELETE FROM telemetry_window WHERE EXISTS (
    SELECT 1 FROM telemetry_window o
    WHERE o.device_id = telemetry_window.device_id AND o.message_id = telemetry_window.message_id
      AND o.id < telemetry_window.id);
ALTER TABLE telemetry_window ADD CONSTRAINT uq_telemetry_window_message UNIQUE (device_id, message_id);
-- The cumulative acknowledgement looks up which seqs of a device are stored above its watermark.
CREATE INDEX ix_telemetry_device_seq ON telemetry_window (device_id, seq);

DELETE FROM device_event WHERE EXISTS (
    SELECT 1 FROM device_event o
    WHERE o.device_id = device_event.device_id AND o.message_id = device_event.message_id
      AND o.id < device_event.id);
ALTER TABLE device_event ADD CONSTRAINT uq_device_event_message UNIQUE (device_id, message_id);

-- The MQTT connection the device's last ONLINE status came from; its Last Will names the same connection.
ALTER TABLE device ADD COLUMN connection_id VARCHAR(64);
-- Offline because the liveness sweep found it silent (not because of a will or an OFFLINE status): its next sign of
-- life, telemetry included, brings it back online.
ALTER TABLE device ADD COLUMN swept BOOLEAN DEFAULT FALSE NOT NULL;
-- Lists filter devices by online state and page by id.
CREATE INDEX ix_device_online ON device (online, last_seen);

-- Compression jobs are claimed by one replica at a time (row locks); a restarting replica fails only its own.
ALTER TABLE compression_job ADD COLUMN owner VARCHAR(64);
