package io.edgefleet.server.rollout;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.util.Objects;

/** An artifact currently retained on the broker under one class's topic tree. */
@Entity
@Table(name = "published_artifact")
@IdClass(PublishedArtifactEntity.Key.class)
public class PublishedArtifactEntity {
    @Id
    @Column(name = "class_id")
    public String classId;
    @Id
    public String sha256;
    @Column(name = "chunk_size")
    public int chunkSize;
    @Column(name = "chunk_count")
    public int chunkCount;
    @Column(name = "published_at")
    public long publishedAt;

    public static class Key implements Serializable {
        public String classId;
        public String sha256;

        public Key() {
        }

        public Key(String classId, String sha256) {
            this.classId = classId;
            this.sha256 = sha256;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Objects.equals(classId, k.classId) && Objects.equals(sha256, k.sha256);
        }

        @Override
        public int hashCode() {
            return Objects.hash(classId, sha256);
        }
    }
}
