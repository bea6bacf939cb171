package io.edgefleet.server.device;

import jakarta.persistence.Column;
import jakarta.persistence.Embeddable;
import java.util.Objects;

/**
 * One model a device holds, as its last ONLINE status reported it: the versions in its active and standby
 * slot and its update state. Keyed by model name in {@link DeviceEntity#models}.
 */
@Embeddable
public class DeviceModel {
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
    @Column(name = "update_state")
    public String updateState;

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceModel m && Objects.equals(activeModel, m.activeModel)
                && Objects.equals(activeVersion, m.activeVersion) && Objects.equals(activeSha256, m.activeSha256)
                && Objects.equals(standbyModel, m.standbyModel) && Objects.equals(standbyVersion, m.standbyVersion)
                && Objects.equals(standbySha256, m.standbySha256) && Objects.equals(updateState, m.updateState);
    }

    @Override
    public int hashCode() {
        return Objects.hash(activeModel, activeVersion, activeSha256, standbyModel, standbyVersion, standbySha256,
                updateState);
    }
}
