package io.edgefleet.server.telemetry;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;

/** One aggregated telemetry window as reported by a device. Sequence ids keep JDBC batch inserts possible. */
@Entity
@Table(name = "telemetry_window")
public class TelemetryWindowEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "telemetry_window_seq")
    @SequenceGenerator(name = "telemetry_window_seq", sequenceName = "telemetry_window_seq", allocationSize = 50)
    public Long id;
    @Column(name = "device_id")
    public String deviceId;
    @Column(name = "message_id")
    public String messageId;
    public long seq;
    @Column(name = "window_start")
    public long windowStart;
    @Column(name = "window_end")
    public long windowEnd;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "model_version")
    public Long modelVersion;
    @Column(name = "model_sha256")
    public String modelSha256;
    public long inferences;
    public long errors;
    @Column(name = "latency_p50")
    public Double latencyP50;
    @Column(name = "latency_p95")
    public Double latencyP95;
    @Column(name = "latency_p99")
    public Double latencyP99;
    @Column(name = "latency_max")
    public Double latencyMax;
    @Column(name = "latency_mean")
    public Double latencyMean;
    @Column(name = "energy_mj")
    public Double energyMj;
    public Double drift;
    public long dropped;
    public boolean replayed;
    @Column(name = "received_at")
    public long receivedAt;
    @Column(name = "energy_source")
    public String energySource;
    @Column(name = "energy_joules")
    public Double energyJoules;
    @Column(name = "drift_js")
    public Double driftJs;
    @Column(name = "drift_confidence_shift")
    public Double driftConfidenceShift;
    @Column(name = "drift_reference")
    public String driftReference;
    /** JSON of the window's DriftReport (per-feature scores). */
    @Column(name = "drift_detail")
    public String driftDetail;
    @Column(name = "mode_full_seconds")
    public Double modeFullSeconds;
    @Column(name = "mode_light_seconds")
    public Double modeLightSeconds;
    @Column(name = "mode_cascade_seconds")
    public Double modeCascadeSeconds;
    @Column(name = "cascade_inferences")
    public Long cascadeInferences;
    @Column(name = "cascade_escalations")
    public Long cascadeEscalations;
    @Column(name = "escalation_rate")
    public Double escalationRate;
    @Column(name = "degradation_mode")
    public String degradationMode;
}
