package io.edgefleet.server.deviceclass;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A hardware profile plus its service-level objectives. Plain columns, no associations. */
@Entity
@Table(name = "device_class")
public class DeviceClassEntity {
    @Id
    public String id;
    public String name;
    public String arch;
    public int cores;
    @Column(name = "ram_mb")
    public long ramMb;
    @Column(name = "storage_mb")
    public long storageMb;
    /** Comma-separated, e.g. {@code fp32,int8}. */
    public String precisions;
    @Column(name = "idle_watts")
    public Double idleWatts;
    @Column(name = "active_watts")
    public Double activeWatts;
    @Column(name = "slo_p95_latency_ms")
    public double sloP95LatencyMs;
    @Column(name = "slo_max_model_bytes")
    public long sloMaxModelBytes;
    @Column(name = "slo_max_energy_mj")
    public Double sloMaxEnergyMj;
    @Column(name = "accuracy_overall_points")
    public double accuracyOverallPoints;
    @Column(name = "accuracy_cohort_points")
    public double accuracyCohortPoints;
    /**
     * Whether the boards compute in float16 (not only store it); null: not declared, so the planner offers
     * {@code fp16-storage} rather than float16 compute. Read by the planner.
     */
    @Column(name = "fp16_arithmetic")
    public Boolean fp16Arithmetic;
    /** Device latency / the server's single-threaded ONNX Runtime latency; null: 1. Read by the planner. */
    @Column(name = "latency_scale")
    public Double latencyScale;
    @Column(name = "created_at")
    public long createdAt;
    @Column(name = "updated_at")
    public long updatedAt;
}
