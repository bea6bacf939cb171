package io.edgefleet.server.alert;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;

/** A firing alert's request to re-compress a model version for a class; the planner consumes OPEN ones. */
@Entity
@Table(name = "recompression_request")
public class RecompressionRequestEntity {
    public static final String OPEN = "OPEN";

    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "recompression_request_seq")
    @SequenceGenerator(name = "recompression_request_seq", sequenceName = "recompression_request_seq", allocationSize = 50)
    public Long id;
    @Column(name = "alert_id")
    public long alertId;
    @Column(name = "rule_id")
    public String ruleId;
    @Column(name = "class_id")
    public String classId;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "model_version")
    public Long modelVersion;
    public String reason;
    public String status;
    @Column(name = "created_at")
    public long createdAt;
}
