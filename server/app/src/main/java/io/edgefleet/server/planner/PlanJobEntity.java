package io.edgefleet.server.planner;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One plan job; the plan itself (JSON and HTML) lives in the blob store. */
@Entity
@Table(name = "plan_job")
public class PlanJobEntity {
    @Id
    public String id;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "base_version")
    public long baseVersion;
    @Column(name = "device_class_id")
    public String deviceClassId;
    @Column(name = "calibration_dataset")
    public String calibrationDataset;
    @Column(name = "calibration_sha256")
    public String calibrationSha256;
    @Column(name = "validation_dataset")
    public String validationDataset;
    @Column(name = "validation_sha256")
    public String validationSha256;
    /** JSON: budget, params, batchAxis. */
    public String request;
    @Enumerated(EnumType.STRING)
    public PlanStatus status;
    public double progress;
    public String message;
    public String error;
    public String choice;
    @Column(name = "result_version")
    public Long resultVersion;
    @Column(name = "plan_json_sha256")
    public String planJsonSha256;
    @Column(name = "plan_html_sha256")
    public String planHtmlSha256;
    @Column(name = "created_at")
    public long createdAt;
    @Column(name = "started_at")
    public Long startedAt;
    @Column(name = "finished_at")
    public Long finishedAt;
}
