package io.edgefleet.server.benchmark;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One device's BenchmarkReport for a job. */
@Entity
@Table(name = "benchmark_result")
public class BenchmarkResultEntity {
    @Id
    public String id;
    @Column(name = "job_id")
    public String jobId;
    @Column(name = "device_id")
    public String deviceId;
    public String status;
    public String reason;
    public String detail;
    public Long inferences;
    public Integer batch;
    public Double seconds;
    @Column(name = "p50_ms")
    public Double p50Ms;
    @Column(name = "p95_ms")
    public Double p95Ms;
    @Column(name = "p99_ms")
    public Double p99Ms;
    @Column(name = "max_ms")
    public Double maxMs;
    @Column(name = "mean_ms")
    public Double meanMs;
    @Column(name = "energy_mj")
    public Double energyMj;
    @Column(name = "energy_source")
    public String energySource;
    @Column(name = "received_at")
    public long receivedAt;
}
