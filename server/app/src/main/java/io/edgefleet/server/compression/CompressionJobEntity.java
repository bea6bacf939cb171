package io.edgefleet.server.compression;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One compression job; the reports live in the blob store, the variant (if it passed) as a model version. */
@Entity
@Table(name = "compression_job")
public class CompressionJobEntity {
    @Id
    public String id;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "base_version")
    public long baseVersion;
    public String recipe;
    /** JSON object of parameter overrides. */
    public String params;
    @Column(name = "calibration_dataset")
    public String calibrationDataset;
    @Column(name = "calibration_sha256")
    public String calibrationSha256;
    @Column(name = "validation_dataset")
    public String validationDataset;
    @Column(name = "validation_sha256")
    public String validationSha256;
    @Column(name = "device_class_id")
    public String deviceClassId;
    @Column(name = "budget_overall")
    public double budgetOverall;
    @Column(name = "budget_cohort")
    public double budgetCohort;
    @Enumerated(EnumType.STRING)
    public JobStatus status;
    public double progress;
    public String message;
    public String error;
    @Column(name = "result_version")
    public Long resultVersion;
    @Column(name = "gate_passed")
    public Boolean gatePassed;
    @Column(name = "gate_summary")
    public String gateSummary;
    @Column(name = "report_json_sha256")
    public String reportJsonSha256;
    @Column(name = "report_md_sha256")
    public String reportMdSha256;
    @Column(name = "created_at")
    public long createdAt;
    /** The replica ({@code InstanceId}) that runs the job; a restart of that replica fails it. */
    public String owner;
    @Column(name = "started_at")
    public Long startedAt;
    @Column(name = "finished_at")
    public Long finishedAt;
}
