package io.edgefleet.server.capture;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A device's raw-input capture opt-in and what it has sent under it. No row: capture is off. */
@Entity
@Table(name = "device_capture")
public class DeviceCaptureEntity {
    @Id
    @Column(name = "device_id")
    public String deviceId;
    public boolean enabled;
    public double rate;
    @Column(name = "max_samples")
    public int maxSamples;
    @Column(name = "max_bytes")
    public long maxBytes;
    @Column(name = "samples_received")
    public long samplesReceived;
    @Column(name = "bytes_received")
    public long bytesReceived;
    @Column(name = "updated_at")
    public long updatedAt;
}
