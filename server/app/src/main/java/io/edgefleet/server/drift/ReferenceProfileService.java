package io.edgefleet.server.drift;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.EngineException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.data.DatasetException;
import io.edgefleet.engine.eval.ModelLoadException;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.eval.ReferenceProfiles;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.protocol.JsonCodec;
import io.edgefleet.protocol.ProtocolException;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.compression.DatasetEntity;
import io.edgefleet.server.compression.DatasetService;
import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.model.ModelService;
import io.edgefleet.server.model.ModelVersionEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * Builds, stores and serves models' drift reference profiles. A profile is built by running the model
 * with ONNX Runtime over a stored dataset (the engine's {@link ReferenceProfiles}); it is keyed by the
 * model artifact's sha256 so the publisher can sign it into the manifest of whatever it publishes.
 */
@ApplicationScoped
public class ReferenceProfileService {
    private static final Logger LOG = Logger.getLogger(ReferenceProfileService.class);
    private static final JsonCodec CODEC = new JsonCodec();

    @Inject
    Session session;

    @Inject
    ModelService models;

    @Inject
    DatasetService datasets;

    @Inject
    EdgefleetConfig config;

    /** {@code POST .../reference-profile}: builds from a stored dataset and stores (replacing an older profile). */
    public ReferenceProfileView build(String name, long version, String datasetName, String source) {
        String src = source == null || source.isBlank() ? ReferenceProfile.SOURCE_VALIDATION : source;
        if (!ReferenceProfile.SOURCE_VALIDATION.equals(src) && !ReferenceProfile.SOURCE_CALIBRATION.equals(src)) {
            throw ApiException.invalid("field 'source' must be 'validation' or 'calibration', not '" + src + "'");
        }
        if (datasetName == null || datasetName.isBlank()) {
            throw ApiException.invalid("field 'dataset' is required: the name of a dataset uploaded with POST /api/v1/datasets/{name}");
        }
        ModelVersionEntity mv = QuarkusTransaction.requiringNew().call(() -> detach(models.require(name, version)));
        DatasetEntity ds = QuarkusTransaction.requiringNew().call(() -> datasets.require(datasetName));
        OnnxModel model;
        try {
            model = OnnxModel.read(models.artifactPath(mv.sha256));
        } catch (RuntimeException e) {
            throw new ApiException(ErrorCode.INVALID_MODEL, "model " + name + ":" + version + " cannot be read: " + e.getMessage(), e);
        }
        Dataset data;
        try {
            data = datasets.load(ds.name, ds.sha256);
        } catch (DatasetException e) {
            throw new ApiException(ErrorCode.INVALID_DATASET, "dataset '" + datasetName + "': " + e.getMessage(), e);
        }
        ReferenceProfile profile;
        try {
            profile = ReferenceProfiles.build(model, data, src, ReferenceProfiles.DEFAULT_MAX_SAMPLES, runtime());
        } catch (BadInputException e) {
            throw new ApiException(ErrorCode.INVALID_DATASET, "dataset '" + datasetName + "' does not fit model "
                    + name + ":" + version + ": " + e.getMessage(), e);
        } catch (ModelLoadException e) {
            throw new ApiException(ErrorCode.INVALID_MODEL, e.getMessage(), e);
        } catch (EngineException | ProtocolException | IllegalArgumentException | IllegalStateException e) {
            throw new ApiException(ErrorCode.INVALID_DATASET, "no reference profile could be built from dataset '"
                    + datasetName + "' on model " + name + ":" + version + ": " + e.getMessage(), e);
        }
        return store(mv, profile, ds.name, ds.sha256);
    }

    /**
     * After a compression job registered a variant: profile it on the job's validation data (else its
     * calibration data). Never fails the job; a profile that cannot be built is logged and skipped, and the
     * agent then falls back to its self-reference.
     */
    public void buildForVariant(String name, long version, OnnxModel variant, Dataset data, String source,
                                String datasetName, String datasetSha256) {
        if (data == null) {
            return;
        }
        try {
            ReferenceProfile profile = ReferenceProfiles.build(variant, data, source,
                    ReferenceProfiles.DEFAULT_MAX_SAMPLES, runtime());
            ModelVersionEntity mv = QuarkusTransaction.requiringNew().call(() -> detach(models.require(name, version)));
            store(mv, profile, datasetName, datasetSha256);
        } catch (RuntimeException e) {
            LOG.warnf("no reference profile for %s:%d from %s data '%s': %s", name, version, source, datasetName,
                    e.getMessage());
        }
    }

    private OrtRunner.Options runtime() {
        return OrtRunner.Options.defaults().withThreads(Math.max(1, config.compression().evalThreads()));
    }

    private static ModelVersionEntity detach(ModelVersionEntity e) {
        ModelVersionEntity copy = new ModelVersionEntity();
        copy.name = e.name;
        copy.version = e.version;
        copy.sha256 = e.sha256;
        return copy;
    }

    private ReferenceProfileView store(ModelVersionEntity mv, ReferenceProfile profile, String dataset, String datasetSha) {
        String json = encode(profile);
        return QuarkusTransaction.requiringNew().call(() -> {
            ReferenceProfileEntity e = session.find(ReferenceProfileEntity.class, mv.sha256);
            boolean created = e == null;
            if (created) {
                e = new ReferenceProfileEntity();
                e.modelSha256 = mv.sha256;
            }
            e.modelName = mv.name;
            e.modelVersion = mv.version;
            e.source = profile.source();
            e.dataset = dataset;
            e.datasetSha256 = datasetSha;
            e.samples = profile.samples();
            e.profile = json;
            e.createdAt = System.currentTimeMillis();
            if (created) {
                session.persist(e);
            }
            LOG.infof("reference profile for %s:%d from %s '%s': %d samples, %d features", mv.name, mv.version,
                    profile.source(), dataset, profile.samples(), profile.allFeatures().size());
            return view(e, profile);
        });
    }

    /** Refuses a profile over {@link ReferenceProfile#MAX_ENCODED_BYTES}, so a manifest never carries one. */
    static String encode(ReferenceProfile profile) {
        try {
            byte[] bytes = CODEC.mapper().writeValueAsBytes(profile);
            if (bytes.length > ReferenceProfile.MAX_ENCODED_BYTES) {
                throw ApiException.invalid("the reference profile would be " + bytes.length + " bytes, over the limit of "
                        + ReferenceProfile.MAX_ENCODED_BYTES + " a manifest may carry");
            }
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a reference profile", e);
        }
    }

    /** {@code GET .../reference-profile}. */
    public ReferenceProfileView get(String name, long version) {
        return QuarkusTransaction.requiringNew().call(() -> {
            ModelVersionEntity mv = models.require(name, version);
            ReferenceProfileEntity e = session.find(ReferenceProfileEntity.class, mv.sha256);
            if (e == null) {
                throw new ApiException(ErrorCode.NOT_FOUND, "model " + name + ":" + version + " has no reference profile; "
                        + "build one with POST /api/v1/models/" + name + "/versions/" + version
                        + "/reference-profile {\"dataset\":\"...\"}");
            }
            return view(e, decode(e.profile));
        });
    }

    /** The stored profile of a model artifact, or null (the publisher signs it into the manifest). */
    public ReferenceProfile forArtifact(String sha256) {
        ReferenceProfileEntity e = QuarkusTransaction.requiringNew().call(() -> session.find(ReferenceProfileEntity.class, sha256));
        return e == null ? null : decode(e.profile);
    }

    private static ReferenceProfile decode(String json) {
        try {
            return CODEC.mapper().readValue(json, ReferenceProfile.class);
        } catch (IOException e) {
            throw new IllegalStateException("a stored reference profile does not parse", e);
        }
    }

    private static ReferenceProfileView view(ReferenceProfileEntity e, ReferenceProfile p) {
        return new ReferenceProfileView(e.modelName, e.modelVersion, e.modelSha256, e.source, e.dataset, e.datasetSha256,
                e.samples, p.allFeatures().size(), e.createdAt, p);
    }
}
