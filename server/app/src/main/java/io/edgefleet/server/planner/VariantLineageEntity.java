package io.edgefleet.server.planner;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** Where a recorded model came from: base hash, recipe and parameters, data hashes, engine version, metrics, parent. */
@Entity
@Table(name = "variant_lineage")
public class VariantLineageEntity {
    public static final String CHOSEN = "chosen";

    @Id
    public String id;
    @Column(name = "plan_job_id")
    public String planJobId;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "device_class_id")
    public String deviceClassId;
    public String role;
    @Column(name = "model_version")
    public Long modelVersion;
    public String sha256;
    @Column(name = "base_sha256")
    public String baseSha256;
    @Column(name = "parent_version")
    public long parentVersion;
    public String recipe;
    public String params;
    @Column(name = "calibration_sha256")
    public String calibrationSha256;
    @Column(name = "validation_sha256")
    public String validationSha256;
    @Column(name = "engine_version")
    public String engineVersion;
    public String metrics;
    public String description;
    @Column(name = "created_at")
    public long createdAt;
}
