package io.edgefleet.server.device;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;

/** One event a device reported (deploy progress, activation, commit, rollback, rejection). */
@Entity
@Table(name = "device_event")
public class DeviceEventEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "device_event_seq")
    @SequenceGenerator(name = "device_event_seq", sequenceName = "device_event_seq", allocationSize = 50)
    public Long id;
    @Column(name = "device_id")
    public String deviceId;
    @Column(name = "message_id")
    public String messageId;
    @Column(name = "event_type")
    public String type;
    @Column(name = "deployment_id")
    public String deploymentId;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "model_version")
    public Long modelVersion;
    @Column(name = "model_sha256")
    public String modelSha256;
    public String reason;
    public String detail;
    public Double progress;
    public long ts;
    @Column(name = "received_at")
    public long receivedAt;
}
