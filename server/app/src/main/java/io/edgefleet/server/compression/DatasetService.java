package io.edgefleet.server.compression;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.data.DatasetException;
import io.edgefleet.protocol.Topics;
import io.edgefleet.protocol.data.NpyArray;
import io.edgefleet.protocol.data.NpyFormatException;
import io.edgefleet.protocol.data.Npz;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.compression.CompressionDtos.ArrayInfo;
import io.edgefleet.server.compression.CompressionDtos.DatasetView;
import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.model.BlobStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * Calibration and validation datasets. An upload is streamed to disk under a bound, parsed with the shared
 * {@link Npz} reader and checked for consistent sample counts before anything is stored; the bytes are kept
 * content-addressed in the blob store, next to the models.
 */
@ApplicationScoped
public class DatasetService {
    private static final Logger LOG = Logger.getLogger(DatasetService.class);

    @Inject
    Session session;

    @Inject
    BlobStore blobs;

    @Inject
    EdgefleetConfig config;

    @Inject
    ObjectMapper json;

    private final ReentrantLock registerLock = new ReentrantLock();

    /** A stored dataset and whether this call created it (false: identical bytes were already stored). */
    public record Registered(DatasetView view, boolean created) {
    }

    public Registered register(String name, InputStream body, Long declaredLength) {
        BlobStore.Staged staged = blobs.stageUpload("dataset", name, body, declaredLength,
                config.datasets().maxUploadBytes(), "edgefleet.datasets.max-upload-bytes");
        return registerStaged(name, staged);
    }

    /** Names of datasets made from devices' opt-in captures (docs/capture.md): capture/{class}/{model}/{yyyyMMddHHmmss}. */
    public static final java.util.regex.Pattern CAPTURE_NAME = java.util.regex.Pattern.compile(
            "capture/[A-Za-z0-9][A-Za-z0-9._-]{0,63}/[A-Za-z0-9][A-Za-z0-9._-]{0,63}/[0-9]{14}(-[0-9]{1,4})?");

    /**
     * Stores a dataset built from captured device inputs under a {@link #CAPTURE_NAME} name, with the same checks as
     * an upload (a readable .npz that the engine's dataset reader accepts).
     */
    public Registered registerCaptured(String name, byte[] npz) {
        if (!CAPTURE_NAME.matcher(name).matches()) {
            throw new ApiException(ErrorCode.INVALID_ID, "captured dataset name '" + name + "' is not "
                    + "capture/{classId}/{modelName}/{yyyyMMddHHmmss}");
        }
        BlobStore.Staged staged = blobs.stageUpload("captured dataset", "capture", new java.io.ByteArrayInputStream(npz),
                (long) npz.length, config.datasets().maxUploadBytes(), "edgefleet.datasets.max-upload-bytes");
        return registerStaged(name, staged);
    }

    private Registered registerStaged(String name, BlobStore.Staged staged) {
        boolean committed = false;
        try {
            if (staged.size() == 0) {
                throw new ApiException(ErrorCode.INVALID_DATASET, "the upload is empty; send the .npz file as the "
                        + "request body");
            }
            String source = name + ".npz";
            Map<String, NpyArray> arrays;
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(staged.file());
                arrays = Npz.read(new java.io.ByteArrayInputStream(bytes), Npz.DEFAULT_MAX_BYTES, source);
            } catch (NpyFormatException | IOException e) {
                throw new ApiException(ErrorCode.INVALID_DATASET, e.getMessage(), e);
            }
            // The engine's reader adds the dataset rules: same sample count everywhere, integer labels/cohort ids.
            Dataset dataset;
            try {
                dataset = Dataset.fromNpz(bytes, source);
            } catch (DatasetException e) {
                throw new ApiException(ErrorCode.INVALID_DATASET, e.getMessage(), e);
            }
            List<ArrayInfo> infos = new ArrayList<>();
            arrays.forEach((key, a) -> infos.add(new ArrayInfo(key, a.dtype().name().toLowerCase(Locale.ROOT),
                    Arrays.stream(a.shape()).boxed().toList())));
            Registered r = store(name, staged, infos, dataset);
            committed = true;
            return r;
        } finally {
            if (!committed) {
                blobs.discard(staged);
            }
        }
    }

    private Registered store(String name, BlobStore.Staged staged, List<ArrayInfo> infos, Dataset dataset) {
        String arraysJson;
        try {
            arraysJson = json.writeValueAsString(infos);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        registerLock.lock();
        try {
            DatasetEntity existing = QuarkusTransaction.requiringNew().call(() -> session.find(DatasetEntity.class, name));
            if (existing != null) {
                if (existing.sha256.equals(staged.sha256())) {
                    blobs.discard(staged);
                    return new Registered(DatasetView.of(existing), false);
                }
                // Jobs refer to datasets by name; silently swapping the content would change what a name means.
                throw new ApiException(ErrorCode.ALREADY_EXISTS, "dataset '" + name + "' already exists with "
                        + "different content (sha256 " + existing.sha256 + "); upload it under a new name");
            }
            boolean newBlob;
            try {
                newBlob = blobs.commit(staged);
            } catch (IOException e) {
                throw new IllegalStateException("cannot store the dataset blob: " + e.getMessage(), e);
            }
            try {
                return QuarkusTransaction.requiringNew().call(() -> {
                    DatasetEntity e = new DatasetEntity();
                    e.name = name;
                    e.sha256 = staged.sha256();
                    e.size = staged.size();
                    e.arrays = arraysJson;
                    e.sampleCount = dataset.size();
                    e.hasLabels = dataset.hasLabels();
                    e.hasCohort = dataset.hasCohorts();
                    e.createdAt = System.currentTimeMillis();
                    session.persist(e);
                    return new Registered(DatasetView.of(e), true);
                });
            } catch (RuntimeException e) {
                if (newBlob && !blobStillReferenced(staged.sha256())) {
                    try {
                        blobs.delete(staged.sha256());
                    } catch (IOException io) {
                        LOG.warnf("cannot remove orphan blob %s: %s", staged.sha256(), io.getMessage());
                    }
                }
                throw e;
            }
        } finally {
            registerLock.unlock();
        }
    }

    private boolean blobStillReferenced(String sha) {
        return QuarkusTransaction.requiringNew().call(() -> session.createSelectionQuery(
                "select count(d) from DatasetEntity d where d.sha256 = :sha", Long.class)
                .setParameter("sha", sha).getSingleResult() > 0);
    }

    @Transactional
    public List<DatasetView> list() {
        return session.createSelectionQuery("from DatasetEntity order by name", DatasetEntity.class)
                .getResultList().stream().map(DatasetView::of).toList();
    }

    @Transactional
    public DatasetView get(String name) {
        DatasetEntity e = session.find(DatasetEntity.class, name);
        if (e == null) {
            throw ApiException.notFound("dataset", name);
        }
        return DatasetView.of(e);
    }

    /** Inside a caller's transaction: the dataset, or UNKNOWN_DATASET naming the upload that would create it. */
    public DatasetEntity require(String name) {
        DatasetEntity d = find(name);
        if (d == null) {
            throw new ApiException(ErrorCode.UNKNOWN_DATASET, "dataset '" + name + "' does not exist; upload it with "
                    + "POST /api/v1/datasets/" + name);
        }
        return d;
    }

    /** Inside a caller's transaction: the dataset, or null. */
    public DatasetEntity find(String name) {
        return session.find(DatasetEntity.class, name);
    }

    /** Loads a stored dataset for the engine; {@code name} labels it in the engine's messages. */
    public Dataset load(String name, String sha256) {
        return Dataset.fromNpz(readBlob(sha256), name + ".npz");
    }

    private byte[] readBlob(String sha256) {
        try {
            return blobs.read(sha256);
        } catch (IOException e) {
            throw new IllegalStateException("dataset blob " + sha256 + " cannot be read: " + e.getMessage(), e);
        }
    }

}
