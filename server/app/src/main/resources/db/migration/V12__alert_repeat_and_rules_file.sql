-- Alert re-notification (Alertmanager's repeat_interval): when receivers were last sent a firing alert.
ALTER TABLE alert ADD COLUMN notified_at BIGINT;
-- Alerts firing before this migration count as notified when they fired.
UPDATE alert SET notified_at = fired_at WHERE state = 'FIRING';
-- Rules defined by edgefleet.alerts.rules-file (read-only over REST).
ALTER TABLE alert_rule ADD COLUMN from_file BOOLEAN DEFAULT FALSE NOT NULL;
