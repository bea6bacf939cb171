package io.edgefleet.server.compression;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** An uploaded calibration/validation .npz; its bytes live in the blob store under {@link #sha256}. */
@Entity
@Table(name = "dataset")
public class DatasetEntity {
    @Id
    public String name;
    public String sha256;
    @Column(name = "size_bytes")
    public long size;
    /** JSON array of {name, dtype, shape}. */
    public String arrays;
    @Column(name = "sample_count")
    public long sampleCount;
    @Column(name = "has_labels")
    public boolean hasLabels;
    @Column(name = "has_cohort")
    public boolean hasCohort;
    @Column(name = "created_at")
    public long createdAt;
}
