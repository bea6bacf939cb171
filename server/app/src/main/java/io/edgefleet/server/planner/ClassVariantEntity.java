package io.edgefleet.server.planner;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** The registry row: for this model, this class runs this version (chosen by that plan). */
@Entity
@Table(name = "class_variant")
public class ClassVariantEntity {
    @Id
    public String id;
    @Column(name = "model_name")
    public String modelName;
    @Column(name = "device_class_id")
    public String deviceClassId;
    @Column(name = "model_version")
    public long modelVersion;
    @Column(name = "plan_job_id")
    public String planJobId;
    @Column(name = "lineage_id")
    public String lineageId;
    @Column(name = "uncompressed_lineage_id")
    public String uncompressedLineageId;
    @Column(name = "reference_lineage_id")
    public String referenceLineageId;
    @Column(name = "updated_at")
    public long updatedAt;

    public static String key(String model, String deviceClass) {
        return model + "|" + deviceClass;
    }
}
