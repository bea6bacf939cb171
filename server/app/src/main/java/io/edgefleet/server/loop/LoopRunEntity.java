package io.edgefleet.server.loop;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** One loop: the alert that caused it, the decision, the re-plan, the variant, the canary and the outcome. */
@Entity
@Table(name = "loop_run")
public class LoopRunEntity {
    @Id
    public String id;
    @Column(name = "class_id")
    public String classId;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "base_version")
    public Long baseVersion;
    @Column(name = "from_version")
    public Long fromVersion;
    @Column(name = "from_candidate")
    public String fromCandidate;
    @Column(name = "from_plan_id")
    public String fromPlanId;
    @Column(name = "alert_id")
    public Long alertId;
    @Column(name = "rule_id")
    public String ruleId;
    @Column(name = "request_id")
    public Long requestId;
    public String metric;
    @Column(name = "alert_fired_at")
    public Long alertFiredAt;
    @Enumerated(EnumType.STRING)
    public LoopMode mode;
    @Enumerated(EnumType.STRING)
    public LoopStrategy strategy;
    @Enumerated(EnumType.STRING)
    public LoopState state;
    public String reason;
    @Column(name = "calibration_dataset")
    public String calibrationDataset;
    /** JSON array of candidate ids. */
    public String candidates;
    @Column(name = "plan_job_id")
    public String planJobId;
    @Column(name = "result_version")
    public Long resultVersion;
    public String choice;
    @Column(name = "deployment_id")
    public String deploymentId;
    public String outcome;
    @Column(name = "decided_by")
    public String decidedBy;
    /** JSON array of {at, state, note}. */
    public String history;
    @Column(name = "created_at")
    public long createdAt;
    @Column(name = "approved_at")
    public Long approvedAt;
    @Column(name = "plan_submitted_at")
    public Long planSubmittedAt;
    @Column(name = "plan_finished_at")
    public Long planFinishedAt;
    @Column(name = "deployment_created_at")
    public Long deploymentCreatedAt;
    @Column(name = "canary_committed_at")
    public Long canaryCommittedAt;
    @Column(name = "finished_at")
    public Long finishedAt;
    @Column(name = "updated_at")
    public long updatedAt;
}
