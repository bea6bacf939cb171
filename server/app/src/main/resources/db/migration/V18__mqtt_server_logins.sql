-- The broker logins of the server replicas (issue 13: one Mosquitto shared by several replicas). Each replica that
-- connects to an external broker with its own user records that user and a Mosquitto $7$ hash of its password at
-- start, so the password file and ACL any replica renders carry every replica's user, and a sync from one replica no
-- longer drops the others. Portable SQL: runs unchanged on H2 2.x and PostgreSQL 12+.
CREATE TABLE mqtt_server_login (
    username VARCHAR(255) NOT NULL PRIMARY KEY,
    password_hash VARCHAR(255) NOT NULL,
    recorded_at BIGINT NOT NULL
);
