package io.edgefleet.server.drift;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A model artifact's drift reference profile, built from a stored dataset. */
@Entity
@Table(name = "reference_profile")
public class ReferenceProfileEntity {
    @Id
    @Column(name = "model_sha256")
    public String modelSha256;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "model_version")
    public long modelVersion;
    public String source;
    public String dataset;
    @Column(name = "dataset_sha256")
    public String datasetSha256;
    public long samples;
    /** JSON of the shared-protocol ReferenceProfile. */
    public String profile;
    @Column(name = "created_at")
    public long createdAt;
}
