package io.edgefleet.server.alert;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;

/** One alert: open (PENDING, FIRING) while {@code openKey} is set, history once RESOLVED. */
@Entity
@Table(name = "alert")
public class AlertEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "alert_seq")
    @SequenceGenerator(name = "alert_seq", sequenceName = "alert_seq", allocationSize = 50)
    public Long id;
    @Column(name = "rule_id")
    public String ruleId;
    public String name;
    public String severity;
    public String fingerprint;
    @Column(name = "open_key")
    public String openKey;
    @Enumerated(EnumType.STRING)
    public AlertState state;
    /** JSON object. */
    public String labels;
    /** JSON object. */
    public String annotations;
    @Column(name = "observed")
    public Double value;
    public Double threshold;
    @Column(name = "active_at")
    public long activeAt;
    @Column(name = "fired_at")
    public Long firedAt;
    @Column(name = "resolved_at")
    public Long resolvedAt;
    /** When receivers were last sent this alert as firing (its first notification, then each repeat); V12. */
    @Column(name = "notified_at")
    public Long notifiedAt;
    @Column(name = "action_result")
    public String actionResult;
    @Column(name = "updated_at")
    public long updatedAt;

    public static String openKey(String ruleId, String fingerprint) {
        return ruleId + "/" + fingerprint;
    }
}
