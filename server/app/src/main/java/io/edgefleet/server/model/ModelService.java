package io.edgefleet.server.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.model.ModelDtos.ModelSummary;
import io.edgefleet.server.model.ModelDtos.ModelVersionView;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * The model registry. An upload is streamed to disk under a size bound, validated (protobuf and
 * ONNX Runtime), stored content-addressed, and only then recorded as the next version of its name.
 * A rejected upload leaves neither a blob nor a row behind.
 */
@ApplicationScoped
public class ModelService {
    private static final Logger LOG = Logger.getLogger(ModelService.class);

    @Inject
    Session session;

    @Inject
    BlobStore blobs;

    @Inject
    EdgefleetConfig config;

    @Inject
    ObjectMapper json;

    /** Version numbers are allocated as max+1; registering one at a time keeps them gap-free and unique. */
    private final ReentrantLock registerLock = new ReentrantLock();

    public long maxUploadBytes() {
        return config.models().maxUploadBytes();
    }

    /** Where a derived version comes from: the version of the same model it was made from, and the recipe (JSON). */
    public record Lineage(long parentVersion, String recipeJson) {
    }

    public ModelVersionView register(String name, InputStream body, Long declaredLength) {
        return register(name, body, declaredLength, null);
    }

    /**
     * Registers a version derived from another one (a compression variant): the same bounds, validation and
     * content-addressed storage as an upload, plus lineage.
     */
    public ModelVersionView register(String name, byte[] model, Lineage lineage) {
        return register(name, new ByteArrayInputStream(model), (long) model.length, lineage);
    }

    private ModelVersionView register(String name, InputStream body, Long declaredLength, Lineage lineage) {
        BlobStore.Staged staged = blobs.stageUpload("model", name, body, declaredLength, maxUploadBytes(),
                "edgefleet.models.max-upload-bytes");
        boolean committed = false;
        try {
            if (staged.size() == 0) {
                throw new ApiException(ErrorCode.INVALID_MODEL, "the upload is empty; send the .onnx file as the request body");
            }
            ModelInspector.Inspection inspection;
            try {
                inspection = ModelInspector.inspect(staged.file());
            } catch (ModelInspector.InvalidModelException e) {
                throw new ApiException(ErrorCode.INVALID_MODEL, e.getMessage(), e);
            }
            ModelVersionView view = store(name, staged, inspection, lineage);
            committed = true;
            return view;
        } finally {
            if (!committed) {
                blobs.discard(staged);
            }
        }
    }

    public ModelVersionView register(String name, byte[] model) {
        return register(name, new ByteArrayInputStream(model), (long) model.length, null);
    }

    private ModelVersionView store(String name, BlobStore.Staged staged, ModelInspector.Inspection inspection,
                                   Lineage lineage) {
        String inputs = toJson(inspection.inputs());
        String outputs = toJson(inspection.outputs());
        registerLock.lock();
        try {
            boolean newBlob;
            try {
                newBlob = blobs.commit(staged);
            } catch (IOException e) {
                throw new IllegalStateException("cannot store the model blob: " + e.getMessage(), e);
            }
            try {
                return QuarkusTransaction.requiringNew().call(() -> {
                    Long max = session.createSelectionQuery(
                                    "select max(m.version) from ModelVersionEntity m where m.name = :name", Long.class)
                            .setParameter("name", name).getSingleResult();
                    ModelVersionEntity e = new ModelVersionEntity();
                    e.name = name;
                    e.version = max == null ? 1 : max + 1;
                    e.sha256 = staged.sha256();
                    e.size = staged.size();
                    e.irVersion = inspection.irVersion();
                    e.opset = inspection.opset();
                    e.producer = inspection.producer();
                    e.inputs = inputs;
                    e.outputs = outputs;
                    e.createdAt = System.currentTimeMillis();
                    if (lineage != null) {
                        e.parentVersion = lineage.parentVersion();
                        e.recipe = lineage.recipeJson();
                    }
                    session.persist(e);
                    return ModelVersionView.of(e);
                });
            } catch (RuntimeException e) {
                if (newBlob) {
                    deleteBlobQuietly(staged.sha256());
                }
                throw e;
            }
        } finally {
            registerLock.unlock();
        }
    }

    private void deleteBlobQuietly(String sha) {
        try {
            blobs.delete(sha);
        } catch (IOException e) {
            LOG.warnf("cannot remove orphan blob %s: %s", sha, e.getMessage());
        }
    }

    @Transactional
    public List<ModelSummary> list() {
        List<ModelVersionEntity> all = session.createSelectionQuery(
                "from ModelVersionEntity order by name, version", ModelVersionEntity.class).getResultList();
        Map<String, List<ModelVersionEntity>> byName = new LinkedHashMap<>();
        for (ModelVersionEntity e : all) {
            byName.computeIfAbsent(e.name, k -> new ArrayList<>()).add(e);
        }
        List<ModelSummary> out = new ArrayList<>();
        byName.forEach((name, versions) -> {
            ModelVersionEntity latest = versions.get(versions.size() - 1);
            out.add(new ModelSummary(name, versions.size(), latest.version, latest.sha256, latest.createdAt));
        });
        return out;
    }

    @Transactional
    public List<ModelVersionView> versions(String name) {
        List<ModelVersionEntity> list = session.createSelectionQuery(
                        "from ModelVersionEntity where name = :name order by version", ModelVersionEntity.class)
                .setParameter("name", name).getResultList();
        if (list.isEmpty()) {
            throw ApiException.notFound("model", name);
        }
        return list.stream().map(ModelVersionView::of).toList();
    }

    @Transactional
    public ModelVersionView version(String name, long version) {
        return ModelVersionView.of(require(name, version));
    }

    @Transactional
    public boolean isEmpty() {
        return session.createSelectionQuery("select count(m) from ModelVersionEntity m", Long.class)
                .getSingleResult() == 0;
    }

    /** Inside a caller's transaction: the version, or null. */
    public ModelVersionEntity find(String name, long version) {
        return session.createSelectionQuery("from ModelVersionEntity where name = :name and version = :version",
                        ModelVersionEntity.class)
                .setParameter("name", name).setParameter("version", version)
                .getResultStream().findFirst().orElse(null);
    }

    public ModelVersionEntity require(String name, long version) {
        ModelVersionEntity e = find(name, version);
        if (e == null) {
            throw ApiException.notFound("model version", name + ":" + version);
        }
        return e;
    }

    /** The stored bytes of a version (for download). */
    public Path artifactPath(String sha256) {
        Path p = blobs.path(sha256);
        if (!blobs.exists(sha256)) {
            throw new IllegalStateException("blob " + sha256 + " is missing from the blob store");
        }
        return p;
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

}
