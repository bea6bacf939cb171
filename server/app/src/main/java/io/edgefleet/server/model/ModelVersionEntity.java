package io.edgefleet.server.model;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;

/** One registered model version; its bytes live in the blob store under {@link #sha256}. */
@Entity
@Table(name = "model_version")
public class ModelVersionEntity {
    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "model_version_seq")
    @SequenceGenerator(name = "model_version_seq", sequenceName = "model_version_seq", allocationSize = 50)
    public Long id;
    public String name;
    public long version;
    public String sha256;
    @Column(name = "size_bytes")
    public long size;
    @Column(name = "ir_version")
    public long irVersion;
    public long opset;
    public String producer;
    /** JSON array of {name, elementType, shape}. */
    public String inputs;
    public String outputs;
    /** The version this one was derived from by the compression engine; null for uploads. */
    @Column(name = "parent_version")
    public Long parentVersion;
    /** JSON of the compression recipe that produced this version; null for uploads. */
    public String recipe;
    @Column(name = "created_at")
    public long createdAt;
}
