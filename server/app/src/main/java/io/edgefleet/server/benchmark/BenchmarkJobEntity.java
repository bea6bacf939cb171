package io.edgefleet.server.benchmark;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One benchmark job: an artifact measured by N devices of a class, and the server's own measurement of it. */
@Entity
@Table(name = "benchmark_job")
public class BenchmarkJobEntity {
    @Id
    public String id;
    @Column(name = "device_class_id")
    public String deviceClassId;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "model_version")
    public long modelVersion;
    public String sha256;
    @Column(name = "devices_requested")
    public int devicesRequested;
    /** Comma-separated device ids the command went to. */
    public String devices;
    public Integer seconds;
    public Integer runs;
    public int batch;
    @Column(name = "interval_ms")
    public Integer intervalMs;
    public String status;
    public String message;
    @Column(name = "server_p50_ms")
    public Double serverP50Ms;
    @Column(name = "server_p95_ms")
    public Double serverP95Ms;
    @Column(name = "server_mean_ms")
    public Double serverMeanMs;
    public long deadline;
    @Column(name = "created_at")
    public long createdAt;
    @Column(name = "finished_at")
    public Long finishedAt;
}
