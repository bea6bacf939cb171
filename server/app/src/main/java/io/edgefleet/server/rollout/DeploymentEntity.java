package io.edgefleet.server.rollout;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.hibernate.annotations.DynamicUpdate;

/** A model version sent to a set of devices. Targets are rows of {@link DeploymentTargetEntity}. */
@Entity
@Table(name = "deployment")
@DynamicUpdate
public class DeploymentEntity {
    @Id
    public String id;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "model_version")
    public long modelVersion;
    public String sha256;
    @Column(name = "size_bytes")
    public long size;
    /** Set when the deployment targets a whole class, null for an explicit device list. */
    @Column(name = "target_class_id")
    public String targetClassId;
    @Enumerated(EnumType.STRING)
    public DeploymentStatus status;
    /** Null: each target takes its class's p95 SLO. */
    @Column(name = "health_max_p95_latency_ms")
    public Double healthMaxP95LatencyMs;
    @Column(name = "health_max_error_rate")
    public double healthMaxErrorRate;
    @Column(name = "health_windows")
    public int healthWindows;
    @Column(name = "health_min_inferences")
    public int healthMinInferences;
    @Column(name = "rollback_reason")
    public String rollbackReason;
    @Column(name = "rollback_requested_at")
    public Long rollbackRequestedAt;
    @Column(name = "created_at")
    public long createdAt;
    @Column(name = "updated_at")
    public long updatedAt;
}
