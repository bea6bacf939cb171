package io.edgefleet.server.rollout;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import org.hibernate.annotations.DynamicUpdate;

/** One device in one deployment, moved along by the device's events. */
@Entity
@Table(name = "deployment_target")
@DynamicUpdate
public class DeploymentTargetEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "deployment_target_seq")
    @SequenceGenerator(name = "deployment_target_seq", sequenceName = "deployment_target_seq", allocationSize = 50)
    public Long id;
    @Column(name = "deployment_id")
    public String deploymentId;
    @Column(name = "device_id")
    public String deviceId;
    /** The device's class when the deployment was made: the artifact is published under it. */
    @Column(name = "class_id")
    public String classId;
    @Enumerated(EnumType.STRING)
    public TargetState state;
    /** A {@link io.edgefleet.protocol.ReasonCode} name, or SUPERSEDED / OPERATOR_REQUEST set by the server. */
    public String reason;
    public String detail;
    /** Reached ACTIVATED or COMMITTED at some point. */
    public boolean activated;
    @Column(name = "command_id")
    public String commandId;
    @Column(name = "sent_at")
    public Long sentAt;
    @Column(name = "updated_at")
    public long updatedAt;
    /** 1 = the canary wave. */
    public int wave = 1;
    /** When the target ends TIMED_OUT if it has not finished; set when its wave starts. */
    @Column(name = "due_at")
    public Long dueAt;
    /** A halt or rollback decided this device goes back; cleared once the broker acknowledged the command. */
    @Column(name = "rollback_due")
    public boolean rollbackDue;
    @Column(name = "rollback_command_id")
    public String rollbackCommandId;
}
