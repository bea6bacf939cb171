package io.edgefleet.server.alert;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

@Entity
@Table(name = "alert_rule")
public class AlertRuleEntity {
    @Id
    public String id;
    public String name;
    @Enumerated(EnumType.STRING)
    public AlertMetric metric;
    @Enumerated(EnumType.STRING)
    public AlertScope scope;
    @Column(name = "class_id")
    public String classId;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "model_version")
    public Long modelVersion;
    @Column(name = "device_id")
    public String deviceId;
    public Double threshold;
    @Column(name = "min_samples")
    public long minSamples;
    @Column(name = "lookback_seconds")
    public long lookbackSeconds;
    @Column(name = "for_seconds")
    public long forSeconds;
    @Enumerated(EnumType.STRING)
    public Severity severity;
    @Enumerated(EnumType.STRING)
    public AlertAction action;
    @Column(name = "runbook_url")
    public String runbookUrl;
    public String description;
    public boolean enabled;
    public boolean builtin;
    /** Defined by edgefleet.alerts.rules-file (read-only over REST); V12. */
    @Column(name = "from_file")
    public boolean fromFile;
    @Column(name = "created_at")
    public long createdAt;
    @Column(name = "updated_at")
    public long updatedAt;

    public AlertRule toRule() {
        return new AlertRule(id, name, metric, scope, classId, modelName, modelVersion, deviceId, threshold, minSamples,
                lookbackSeconds, forSeconds, severity, action, runbookUrl, description, enabled, builtin);
    }

    public void set(AlertRule r) {
        id = r.id();
        name = r.name();
        metric = r.metric();
        scope = r.scope();
        classId = r.classId();
        modelName = r.modelName();
        modelVersion = r.modelVersion();
        deviceId = r.deviceId();
        threshold = r.threshold();
        minSamples = r.minSamples();
        lookbackSeconds = r.lookbackSeconds();
        forSeconds = r.forSeconds();
        severity = r.severity();
        action = r.action();
        runbookUrl = r.runbookUrl();
        description = r.description();
        enabled = r.enabled();
        builtin = r.builtin();
    }
}
