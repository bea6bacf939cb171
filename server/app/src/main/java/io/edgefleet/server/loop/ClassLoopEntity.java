package io.edgefleet.server.loop;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A class's loop switch, its operator dataset and its back-off. */
@Entity
@Table(name = "class_loop")
public class ClassLoopEntity {
    @Id
    @Column(name = "class_id")
    public String classId;
    @Enumerated(EnumType.STRING)
    public LoopMode mode;
    @Column(name = "fresh_dataset")
    public String freshDataset;
    @Column(name = "backed_off_at")
    public Long backedOffAt;
    @Column(name = "backed_off_reason")
    public String backedOffReason;
    @Column(name = "updated_at")
    public long updatedAt;
}
