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
    /** The resolved {@link RolloutPolicy} as JSON; null for deployments made before waves existed. */
    public String policy;
    /** Comma-separated tags the target selects on (with targetClassId), for devices that join later. */
    @Column(name = "target_tags")
    public String targetTags;
    @Column(name = "wave_current")
    public int waveCurrent = 1;
    @Column(name = "wave_count")
    public int waveCount = 1;
    @Enumerated(EnumType.STRING)
    @Column(name = "wave_phase")
    public WaveMachine.Phase wavePhase = WaveMachine.Phase.DEPLOYING;
    @Column(name = "wave_started_at")
    public Long waveStartedAt;
    @Column(name = "soak_started_at")
    public Long soakStartedAt;
    @Column(name = "paused_at")
    public Long pausedAt;
    @Column(name = "halt_rule")
    public String haltRule;
    @Column(name = "halt_detail")
    public String haltDetail;
    /** JSON array of the device ids a halt sent back or stopped. */
    @Column(name = "halt_devices")
    public String haltDevices;
    /** JSON of the last gate evaluation. */
    @Column(name = "gate_results")
    public String gateResults;
    @Column(name = "ended_at")
    public Long endedAt;
    /** The light fallback of the same model shipped beside it (docs/degradation.md); null: none. */
    @Column(name = "fallback_version")
    public Long fallbackVersion;
    @Column(name = "fallback_sha256")
    public String fallbackSha256;
    @Column(name = "fallback_size")
    public Long fallbackSize;
    @Column(name = "created_at")
    public long createdAt;
    @Column(name = "updated_at")
    public long updatedAt;

    WaveMachine.State machineState() {
        return new WaveMachine.State(status, waveCurrent, waveCount, wavePhase,
                waveStartedAt == null ? createdAt : waveStartedAt, soakStartedAt, pausedAt);
    }

    void apply(WaveMachine.State s, long now) {
        if (s.status() != status && s.status().terminal() && endedAt == null) {
            endedAt = now;
        }
        status = s.status();
        waveCurrent = s.wave();
        waveCount = s.waveCount();
        wavePhase = s.phase();
        waveStartedAt = s.waveStartedAt();
        soakStartedAt = s.soakStartedAt();
        pausedAt = s.pausedAt();
        updatedAt = now;
    }
}
