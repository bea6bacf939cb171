package io.edgefleet.server.rollout;

import io.edgefleet.protocol.ArtifactChunker;
import io.edgefleet.protocol.ArtifactManifest;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.PowerModel;
import io.edgefleet.server.deviceclass.DeviceClassEntity;
import io.edgefleet.server.drift.ReferenceProfileService;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.model.BlobStore;
import io.edgefleet.server.mqtt.MqttGateway;
import io.edgefleet.server.security.SigningKeys;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * Publishes an artifact once per device class, retained: every chunk as raw bytes, then the
 * signed manifest (so a device that sees the manifest finds all chunks already there). The broker
 * fans it out to the whole class and keeps it for devices that connect later. Cleared again with
 * empty retained messages once no rollout needs it.
 */
@ApplicationScoped
public class ArtifactPublisher {
    private static final Logger LOG = Logger.getLogger(ArtifactPublisher.class);
    /** Keeps a manifest (about 70 bytes per chunk hash) well inside the 256 KiB JSON limit agents apply. */
    static final int MAX_CHUNKS = 2048;

    @Inject
    Session session;

    @Inject
    MqttGateway gateway;

    @Inject
    BlobStore blobs;

    @Inject
    SigningKeys keys;

    @Inject
    EdgefleetConfig config;

    @Inject
    ReferenceProfileService profiles;

    /** The class's power model, or null when the class has none (agents then fall back to their own setting). */
    PowerModel powerModel(String classId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            DeviceClassEntity c = session.find(DeviceClassEntity.class, classId);
            if (c == null || c.idleWatts == null || c.activeWatts == null || c.activeWatts < c.idleWatts) {
                return null;
            }
            return new PowerModel(c.idleWatts, c.activeWatts);
        });
    }

    /** The configured chunk size, doubled as often as needed so that the artifact has at most MAX_CHUNKS chunks. */
    public static int chunkSizeFor(long size, int configured) {
        int cs = Math.max(ArtifactManifest.MIN_CHUNK, Math.min(ArtifactManifest.MAX_CHUNK, configured));
        while ((size + cs - 1) / cs > MAX_CHUNKS && cs < ArtifactManifest.MAX_CHUNK) {
            cs = Math.min(cs * 2, ArtifactManifest.MAX_CHUNK);
        }
        return cs;
    }

    public boolean isPublished(String classId, String sha256) {
        return QuarkusTransaction.requiringNew().call(() ->
                session.find(PublishedArtifactEntity.class, new PublishedArtifactEntity.Key(classId, sha256)) != null);
    }

    /** Publishes unless already published; {@code force} republishes (after a broker may have lost its state). */
    public void publish(String classId, ModelRef model, boolean force) {
        if (!force && isPublished(classId, model.sha256())) {
            return;
        }
        byte[] bytes;
        try {
            bytes = blobs.read(model.sha256());
        } catch (IOException e) {
            throw new UncheckedIOException("artifact " + model.sha256() + " is missing from the blob store", e);
        }
        int chunkSize = chunkSizeFor(bytes.length, config.artifacts().chunkSize());
        // The model's drift reference and the class's power model travel under the same signature as the bytes.
        ArtifactManifest manifest = keys.signer().sign(ArtifactChunker.manifest(classId, model, bytes, chunkSize)
                .withExtras(profiles.forArtifact(model.sha256()), powerModel(classId)));
        List<String> chunkTopics = new ArrayList<>(manifest.chunkCount());
        for (int i = 0; i < manifest.chunkCount(); i++) {
            chunkTopics.add(Topics.chunk(classId, model.sha256(), i));
        }
        gateway.publishAll(chunkTopics, i -> ArtifactChunker.chunk(bytes, chunkSize, i), true, Protocol.CONTENT_TYPE_CHUNK);
        gateway.publishJson(Topics.manifest(classId, model.sha256()), manifest, true);
        QuarkusTransaction.requiringNew().run(() -> {
            PublishedArtifactEntity row = session.find(PublishedArtifactEntity.class,
                    new PublishedArtifactEntity.Key(classId, model.sha256()));
            if (row == null) {
                row = new PublishedArtifactEntity();
                row.classId = classId;
                row.sha256 = model.sha256();
                session.persist(row);
            }
            row.chunkSize = chunkSize;
            row.chunkCount = manifest.chunkCount();
            row.publishedAt = System.currentTimeMillis();
        });
        LOG.infof("Published %s (%d bytes, %d chunks of %d) to class %s", model.label(), bytes.length,
                manifest.chunkCount(), chunkSize, classId);
    }

    /** Removes a retained artifact from the broker: manifest first, so no device starts a download meanwhile. */
    public void clear(String classId, String sha256) {
        PublishedArtifactEntity row = QuarkusTransaction.requiringNew().call(() ->
                session.find(PublishedArtifactEntity.class, new PublishedArtifactEntity.Key(classId, sha256)));
        if (row == null) {
            return;
        }
        List<String> topics = new ArrayList<>(row.chunkCount + 1);
        topics.add(Topics.manifest(classId, sha256));
        for (int i = 0; i < row.chunkCount; i++) {
            topics.add(Topics.chunk(classId, sha256, i));
        }
        byte[] empty = new byte[0];
        gateway.publishAll(topics, i -> empty, true, null);
        QuarkusTransaction.requiringNew().run(() -> {
            PublishedArtifactEntity r = session.find(PublishedArtifactEntity.class,
                    new PublishedArtifactEntity.Key(classId, sha256));
            if (r != null) {
                session.remove(r);
            }
        });
        LOG.infof("Cleared retained artifact %s of class %s", sha256, classId);
    }

    public List<PublishedArtifactEntity> published() {
        return QuarkusTransaction.requiringNew().call(() ->
                session.createSelectionQuery("from PublishedArtifactEntity", PublishedArtifactEntity.class).getResultList());
    }
}
