package io.edgefleet.server.device;

import jakarta.persistence.CollectionTable;
import jakarta.persistence.Column;
import jakarta.persistence.ElementCollection;
import jakarta.persistence.Entity;
import jakarta.persistence.FetchType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.MapKeyColumn;
import jakarta.persistence.Table;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hibernate.annotations.DynamicUpdate;

/**
 * A registered device. Dynamic updates matter here: the MQTT ingest updates status columns while
 * an operator may rotate or revoke the credential, and a full-row update from one side would
 * silently undo the other (a revoked credential must stay revoked).
 */
@Entity
@Table(name = "device")
@DynamicUpdate
public class DeviceEntity {
    @Id
    public String id;
    @Column(name = "class_id")
    public String classId;
    @ElementCollection(fetch = FetchType.EAGER)
    @CollectionTable(name = "device_tag", joinColumns = @JoinColumn(name = "device_id"))
    @Column(name = "tag")
    public Set<String> tags = new TreeSet<>();
    @Column(name = "credential_hash")
    public String credentialHash;
    @Column(name = "credential_updated_at")
    public long credentialUpdatedAt;
    public boolean online;
    @Column(name = "last_seen")
    public Long lastSeen;
    @Column(name = "status_ts")
    public Long statusTs;
    /** The MQTT connection of the last ONLINE status (see {@link StatusRules}); null for older agents. */
    @Column(name = "connection_id")
    public String connectionId;
    /** Offline because the liveness sweep found it silent; any sign of life brings it back. */
    public boolean swept;
    @Column(name = "agent_version")
    public String agentVersion;
    @Column(name = "active_model")
    public String activeModel;
    @Column(name = "active_version")
    public Long activeVersion;
    @Column(name = "active_sha256")
    public String activeSha256;
    @Column(name = "standby_model")
    public String standbyModel;
    @Column(name = "standby_version")
    public Long standbyVersion;
    @Column(name = "standby_sha256")
    public String standbySha256;
    /**
     * Every model the device holds, by name, as its last ONLINE status said (several models per device);
     * an older agent's single model is kept here too, so lists and filters read one place.
     */
    @ElementCollection(fetch = FetchType.EAGER)
    @CollectionTable(name = "device_model", joinColumns = @JoinColumn(name = "device_id"))
    @MapKeyColumn(name = "model_name")
    public Map<String, DeviceModel> models = new TreeMap<>();
    /** JSON of the newest telemetry window, kept on the row so reading a device costs one query. */
    @Column(name = "last_telemetry")
    public String lastTelemetry;
    @Column(name = "created_at")
    public long createdAt;
}
