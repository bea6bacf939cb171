package io.edgefleet.server.device;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * The broker login of one server replica (its MQTT user and a Mosquitto {@code $7$} hash of its password), kept
 * beside the devices' credentials so that the Mosquitto password file and ACL any replica renders carry every
 * replica's user ({@code io.edgefleet.server.mqtt.ServerLogins}).
 */
@Entity
@Table(name = "mqtt_server_login")
public class ServerLoginEntity {
    @Id
    public String username;
    @Column(name = "password_hash")
    public String passwordHash;
    @Column(name = "recorded_at")
    public long recordedAt;
}
