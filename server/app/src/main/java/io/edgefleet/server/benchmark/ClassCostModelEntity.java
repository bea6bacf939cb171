package io.edgefleet.server.benchmark;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A class's fitted cost model (engine {@code FittedCostModel}), refitted after every benchmark job. */
@Entity
@Table(name = "class_cost_model")
public class ClassCostModelEntity {
    @Id
    @Column(name = "device_class_id")
    public String deviceClassId;
    @Column(name = "p95_scale")
    public double p95Scale;
    @Column(name = "p95_offset_ms")
    public double p95OffsetMs;
    @Column(name = "mean_scale")
    public double meanScale;
    @Column(name = "mean_offset_ms")
    public double meanOffsetMs;
    @Column(name = "energy_mj_per_server_ms")
    public Double energyMjPerServerMs;
    public int reports;
    public int artifacts;
    @Column(name = "latency_error_percent")
    public double latencyErrorPercent;
    @Column(name = "energy_error_percent")
    public Double energyErrorPercent;
    @Column(name = "fitted_at")
    public long fittedAt;
    @Column(name = "interval_ms")
    public Integer intervalMs;
    /** The server figure the lines and energy regress on: {@link #BASIS}; null for a fit made before it (p95 and mean). */
    @Column(name = "server_basis")
    public String serverBasis;

    /** The current regressor: the server's median batch-1 latency of the artifact. */
    public static final String BASIS = "p50";
}
