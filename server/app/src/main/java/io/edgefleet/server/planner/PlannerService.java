package io.edgefleet.server.planner;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.EngineVersion;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.gate.AccuracyGate;
import io.edgefleet.engine.onnx.OnnxFormatException;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.planner.Candidate;
import io.edgefleet.engine.planner.DeviceClassProfile;
import io.edgefleet.engine.planner.InputRequirements;
import io.edgefleet.engine.planner.Plan;
import io.edgefleet.engine.planner.PlanBudget;
import io.edgefleet.engine.planner.PlanWriter;
import io.edgefleet.engine.planner.Planner;
import io.edgefleet.engine.report.ReportWriter;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.compression.DatasetEntity;
import io.edgefleet.server.compression.DatasetService;
import io.edgefleet.server.deviceclass.DeviceClassEntity;
import io.edgefleet.server.deviceclass.DeviceClassService;
import io.edgefleet.server.drift.ReferenceProfileService;
import io.edgefleet.server.model.BlobStore;
import io.edgefleet.server.model.ModelDtos.ModelVersionView;
import io.edgefleet.server.model.ModelService;
import io.edgefleet.server.planner.PlanDtos.Budget;
import io.edgefleet.server.planner.PlanDtos.LineageView;
import io.edgefleet.server.planner.PlanDtos.ModelRef;
import io.edgefleet.server.planner.PlanDtos.PlanRequest;
import io.edgefleet.server.planner.PlanDtos.PlanView;
import io.edgefleet.server.planner.PlanDtos.VariantView;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * Plan jobs: a request is checked (model, class, datasets, and whether the data can feed the model) and recorded as
 * QUEUED, then the engine's {@link Planner} runs on this service's own worker pool, never on a request thread and
 * apart from the compression queue. A plan with a choice registers the chosen variant as a new model version with its
 * base as parent, records its lineage and the two baselines, and makes it the class's variant in the registry.
 * Nothing is deployed.
 */
@ApplicationScoped
public class PlannerService {
    private static final Logger LOG = Logger.getLogger(PlannerService.class);
    static final String RESTARTED = "server restarted while the plan was queued or running";
    private static final long MIB = 1L << 20;

    @Inject
    Session session;

    @Inject
    BlobStore blobs;

    @Inject
    ModelService models;

    @Inject
    DatasetService datasets;

    @Inject
    DeviceClassService classes;

    @Inject
    PlannerConfig config;

    @Inject
    ObjectMapper json;

    @Inject
    io.edgefleet.server.benchmark.BenchmarkService benchmarks;

    @Inject
    ReferenceProfileService profiles;

    private ThreadPoolExecutor executor;
    private final Map<String, Live> live = new ConcurrentHashMap<>();

    private static final class Live {
        volatile double progress;
        volatile String message = "queued";
        volatile boolean cancelRequested;
        volatile Future<?> future;
    }

    void onStart(@Observes @Priority(251) StartupEvent event) {
        int marked = QuarkusTransaction.requiringNew().call(() -> session.createMutationQuery(
                        "update PlanJobEntity j set j.status = :failed, j.error = :why, j.message = :why, "
                                + "j.finishedAt = :now where j.status in (:queued, :running)")
                .setParameter("failed", PlanStatus.FAILED).setParameter("why", RESTARTED)
                .setParameter("now", System.currentTimeMillis())
                .setParameter("queued", PlanStatus.QUEUED).setParameter("running", PlanStatus.RUNNING)
                .executeUpdate());
        if (marked > 0) {
            LOG.warnf("marked %d plan job(s) FAILED: %s", marked, RESTARTED);
        }
        int workers = Math.max(1, config.workers());
        AtomicInteger n = new AtomicInteger();
        executor = new ThreadPoolExecutor(workers, workers, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(Math.max(1, config.maxQueued())), r -> {
                    Thread t = new Thread(r, "edgefleet-planner-" + n.incrementAndGet());
                    t.setDaemon(true);
                    t.setPriority(Thread.NORM_PRIORITY - 1);
                    return t;
                });
    }

    void onStop(@Observes ShutdownEvent event) {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    // ---------------------------------------------------------------- submit

    /** What a submission resolved: stored by the job row, and re-read by the worker. */
    private record Resolved(String modelSha, DatasetEntity calibration, DatasetEntity validation) {
    }

    public PlanView submit(String modelName, long version, PlanRequest req) {
        return submit(modelName, version, req, null, true, ReferenceProfile.SOURCE_VALIDATION);
    }

    /**
     * A plan with an explicit search space (the closed loop's more aggressive or gentler candidates; null: the
     * default grid). With {@code registerVariant} false the chosen variant is registered as a model version with its
     * lineage, but the class's registry row is left alone until {@link #makeClassVariant} (the loop does that once
     * the variant's canary is promoted). {@code referenceSource} names the data the chosen variant's drift reference
     * profile is built from: {@link ReferenceProfile#SOURCE_VALIDATION} (a plan's own inputs), or
     * {@link ReferenceProfile#SOURCE_CALIBRATION} when the variant is recalibrated on data that shows what the devices
     * see now (the loop's recalibration on captured inputs: the drifted stream is the variant's new normal, else the
     * drift alert that caused the loop would fire again on the variant it deployed).
     */
    public PlanView submit(String modelName, long version, PlanRequest req, List<Candidate> candidates,
            boolean registerVariant, String referenceSource) {
        if (!ReferenceProfile.SOURCE_VALIDATION.equals(referenceSource)
                && !(ReferenceProfile.SOURCE_CALIBRATION.equals(referenceSource) && !isBlank(req.calibrationDataset()))) {
            throw new IllegalArgumentException("a plan's reference profile comes from its validation data, or from "
                    + "its calibration data when it has some, not from '" + referenceSource + "'");
        }
        // The addressed model version first: missing is 404 whatever the body says.
        String modelSha = QuarkusTransaction.requiringNew().call(() -> models.require(modelName, version).sha256);
        Resolved r = QuarkusTransaction.requiringNew().call(() -> {
            if (classes.find(req.deviceClassId()) == null) {
                throw new ApiException(ErrorCode.UNKNOWN_DEVICE_CLASS, "device class '" + req.deviceClassId()
                        + "' does not exist");
            }
            DatasetEntity calib = isBlank(req.calibrationDataset()) ? null : datasets.require(req.calibrationDataset());
            DatasetEntity valid = isBlank(req.validationDataset()) ? null : datasets.require(req.validationDataset());
            return new Resolved(modelSha, calib, valid);
        });
        Map<String, String> params = new TreeMap<>(req.params() == null ? Map.of() : req.params());
        params.forEach((k, v) -> {
            if (v == null) {
                throw ApiException.invalid("params." + k + " must not be null");
            }
        });
        Map<String, Integer> axes = new TreeMap<>(req.batchAxis() == null ? Map.of() : req.batchAxis());
        axes.forEach((k, v) -> {
            if (v == null || v < 0) {
                throw ApiException.invalid("batchAxis." + k + " must be an axis index >= 0");
            }
        });
        PlanBudget budget = budget(req.budget());
        checkData(r, axes);

        ObjectNode stored = json.createObjectNode();
        stored.set("budget", json.valueToTree(budget));
        stored.set("params", json.valueToTree(params));
        stored.set("batchAxis", json.valueToTree(axes));
        if (req.target() != null) {
            stored.set("target", json.valueToTree(req.target()));
        }
        if (candidates != null) {
            var list = stored.putArray("candidates");
            for (Candidate c : candidates) {
                ObjectNode o = list.addObject();
                o.put("id", c.id());
                o.put("recipe", c.recipe());
                o.set("params", json.valueToTree(c.params()));
                o.set("requires", json.valueToTree(c.requires()));
            }
        }
        stored.put("registerVariant", registerVariant);
        stored.put("referenceSource", referenceSource);
        String id = UUID.randomUUID().toString();
        PlanJobEntity job = QuarkusTransaction.requiringNew().call(() -> {
            PlanJobEntity e = new PlanJobEntity();
            e.id = id;
            e.modelName = modelName;
            e.baseVersion = version;
            e.deviceClassId = req.deviceClassId();
            if (r.calibration() != null) {
                e.calibrationDataset = r.calibration().name;
                e.calibrationSha256 = r.calibration().sha256;
            }
            e.validationDataset = r.validation().name;
            e.validationSha256 = r.validation().sha256;
            e.request = toJson(stored);
            e.status = PlanStatus.QUEUED;
            e.message = "queued";
            e.createdAt = System.currentTimeMillis();
            session.persist(e);
            return e;
        });
        Live l = new Live();
        live.put(id, l);
        try {
            l.future = executor.submit(() -> run(id, l));
        } catch (RejectedExecutionException ex) {
            live.remove(id);
            QuarkusTransaction.requiringNew().run(() -> {
                PlanJobEntity e = session.find(PlanJobEntity.class, id);
                if (e != null) {
                    session.remove(e);
                }
            });
            throw new ApiException(ErrorCode.COMPRESSION_QUEUE_FULL, "too many plans are waiting (limit "
                    + config.maxQueued() + ", edgefleet.planner.max-queued); try again later");
        }
        return view(job, l);
    }

    /** The request's budget over the configured defaults. */
    PlanBudget budget(Budget b) {
        PlanBudget d = new PlanBudget(config.maxCandidates(), config.maxMinutes(), PlanBudget.DEFAULT_MARGIN,
                PlanBudget.DEFAULT_TIE_POINTS, config.latencyRuns());
        if (b == null) {
            return d;
        }
        try {
            return new PlanBudget(b.maxCandidates() != null ? b.maxCandidates() : d.maxCandidates(),
                    b.maxMinutes() != null ? b.maxMinutes() : d.maxMinutes(),
                    b.earlyStopMargin() != null ? b.earlyStopMargin() : d.earlyStopMargin(),
                    b.tiePoints() != null ? b.tiePoints() : d.tiePoints(),
                    b.latencyRuns() != null ? b.latencyRuns() : d.latencyRuns());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("budget: " + e.getMessage());
        }
    }

    /**
     * The model must load and the data must feed every input, before anything is queued: a model only real data can
     * feed is told which array is missing and why (docs/planner.md, "Models that need real data").
     */
    private void checkData(Resolved r, Map<String, Integer> axes) {
        OnnxModel model;
        try {
            model = OnnxModel.read(models.artifactPath(r.modelSha()));
        } catch (OnnxFormatException e) {
            throw new ApiException(ErrorCode.INVALID_MODEL, e.getMessage(), e);
        }
        try {
            Dataset calib = r.calibration() == null ? null : datasets.load(r.calibration().name, r.calibration().sha256);
            Dataset valid = r.validation() == null ? null : datasets.load(r.validation().name, r.validation().sha256);
            InputRequirements.check(model, InputRequirements.withBatchAxes(model, calib, axes),
                    InputRequirements.withBatchAxes(model, valid, axes), axes);
        } catch (BadInputException e) {
            throw new ApiException(r.validation() == null ? ErrorCode.VALIDATION_FAILED : ErrorCode.INVALID_DATASET,
                    e.getMessage(), e);
        }
    }


    /** The engine's view of a class. A listed fp16 without declared float16 arithmetic counts as storage only. */
    public static DeviceClassProfile profile(DeviceClassEntity c) {
        Set<String> precisions = new TreeSet<>(List.of(c.precisions.split(",")));
        if (precisions.remove("fp16") && Boolean.TRUE.equals(c.fp16Arithmetic)) {
            precisions.add("fp16");
        }
        return new DeviceClassProfile(c.id, precisions, c.ramMb * MIB, c.storageMb * MIB, c.idleWatts, c.activeWatts,
                c.latencyScale == null ? 1.0 : c.latencyScale,
                new DeviceClassProfile.Slo(c.sloP95LatencyMs, c.sloMaxModelBytes, c.sloMaxEnergyMj),
                new AccuracyGate(c.accuracyOverallPoints, c.accuracyCohortPoints));
    }

    /** The class with a plan's target in place of its SLOs (a field the target leaves out keeps the class's). */
    static DeviceClassProfile withTarget(DeviceClassProfile p, PlanDtos.Target t) {
        DeviceClassProfile.Slo slo = new DeviceClassProfile.Slo(
                t.p95LatencyMs() != null ? t.p95LatencyMs() : p.slo().p95LatencyMs(), p.slo().maxModelBytes(),
                t.maxEnergyMj() != null ? t.maxEnergyMj() : p.slo().maxEnergyMj());
        return new DeviceClassProfile(p.id(), p.precisions(), p.ramBytes(), p.storageBytes(), p.idleWatts(),
                p.activeWatts(), p.latencyScale(), slo, p.accuracyBudget());
    }

    // ---------------------------------------------------------------- run (worker thread)

    private void run(String id, Live l) {
        try {
            PlanJobEntity job = QuarkusTransaction.requiringNew().call(() -> {
                int started = session.createMutationQuery("update PlanJobEntity j set j.status = :running, "
                                + "j.message = 'starting', j.startedAt = :now where j.id = :id and j.status = :queued")
                        .setParameter("running", PlanStatus.RUNNING).setParameter("queued", PlanStatus.QUEUED)
                        .setParameter("now", System.currentTimeMillis()).setParameter("id", id).executeUpdate();
                return started == 1 ? session.find(PlanJobEntity.class, id) : null;
            });
            if (job != null) {
                execute(job, l);
            }
        } catch (RuntimeException | Error e) {
            LOG.errorf(e, "plan %s failed unexpectedly", id);
            finish(id, PlanStatus.FAILED, "internal error: " + e, null, null, null);
        } finally {
            live.remove(id);
        }
    }

    private void execute(PlanJobEntity job, Live l) {
        try {
            l.message = "loading the model and data";
            String sha = QuarkusTransaction.requiringNew().call(() -> models.require(job.modelName, job.baseVersion)
                    .sha256);
            DeviceClassProfile profile = QuarkusTransaction.requiringNew().call(() -> {
                DeviceClassEntity c = classes.find(job.deviceClassId);
                if (c == null) {
                    throw new BadInputException("device class '" + job.deviceClassId + "' was deleted");
                }
                return profile(c);
            });
            OnnxModel model = OnnxModel.read(models.artifactPath(sha));
            Dataset calibration = job.calibrationSha256 == null ? null
                    : datasets.load(job.calibrationDataset, job.calibrationSha256);
            Dataset validation = datasets.load(job.validationDataset, job.validationSha256);
            JsonNode req = json.readTree(job.request);
            PlanBudget budget = json.treeToValue(req.get("budget"), PlanBudget.class);
            Map<String, String> params = json.convertValue(req.get("params"),
                    json.getTypeFactory().constructMapType(TreeMap.class, String.class, String.class));
            Map<String, Integer> axes = json.convertValue(req.get("batchAxis"),
                    json.getTypeFactory().constructMapType(TreeMap.class, String.class, Integer.class));
            if (req.hasNonNull("target")) {
                profile = withTarget(profile, json.treeToValue(req.get("target"), PlanDtos.Target.class));
            }
            // The class's model fitted from device benchmark reports when there is one, else the declared profile.
            io.edgefleet.engine.planner.CostModel costModel = benchmarks.fitted(job.deviceClassId)
                    .<io.edgefleet.engine.planner.CostModel>map(f -> f)
                    .orElse(io.edgefleet.engine.planner.CostModel.DeclaredProfile.INSTANCE);
            Planner.Builder builder = Planner.builder(model, profile).costModel(costModel);
            List<Candidate> explicit = candidates(req.get("candidates"));
            if (explicit != null) {
                builder.candidates(explicit);
            }
            Planner.Outcome out = builder
                    .modelName(job.modelName + "-v" + job.baseVersion)
                    .calibration(calibration).validation(validation).budget(budget).commonParams(params)
                    .batchAxes(axes).threads(Math.max(1, config.evalThreads()))
                    .progress((f, msg) -> {
                        l.progress = Math.max(0, Math.min(1, f));
                        l.message = msg;
                    })
                    .cancelled(() -> l.cancelRequested)
                    .build().run();
            l.message = "storing the plan";
            Plan plan = out.plan();
            String planJson = blobs.putText(PlanWriter.json(plan));
            String planHtml = blobs.putText(PlanWriter.html(plan));
            if (plan.choice() == null) {
                finish(job.id, PlanStatus.NO_CHOICE, null, null, null, new String[] {planJson, planHtml});
                return;
            }
            ObjectNode recipeJson = json.createObjectNode();
            recipeJson.put("name", plan.chosen().recipe());
            recipeJson.set("params", json.valueToTree(plan.chosen().params()));
            recipeJson.put("plan", job.id);
            recipeJson.put("deviceClass", job.deviceClassId);
            ModelVersionView created = models.register(job.modelName, out.chosenVariant().toBytes(),
                    new ModelService.Lineage(job.baseVersion, json.writeValueAsString(recipeJson)));
            record(job, sha, plan, created.version(), !req.path("registerVariant").isBoolean()
                    || req.get("registerVariant").asBoolean());
            // The devices compare their inputs and outputs against this signed profile; without one they would
            // fall back to a self reference of their first inferences, whatever those were.
            l.message = "building the drift reference profile";
            boolean onCalibration = ReferenceProfile.SOURCE_CALIBRATION.equals(req.path("referenceSource").asText())
                    && calibration != null;
            profiles.buildForVariant(job.modelName, created.version(), out.chosenVariant(),
                    onCalibration ? calibration : validation,
                    onCalibration ? ReferenceProfile.SOURCE_CALIBRATION : ReferenceProfile.SOURCE_VALIDATION,
                    onCalibration ? job.calibrationDataset : job.validationDataset,
                    onCalibration ? job.calibrationSha256 : job.validationSha256);
            finish(job.id, PlanStatus.CHOSEN, null, plan.choice(), created.version(),
                    new String[] {planJson, planHtml});
        } catch (CancellationException e) {
            finish(job.id, PlanStatus.CANCELLED, "cancelled", null, null, null);
        } catch (BadInputException e) {
            finish(job.id, PlanStatus.FAILED, e.getMessage(), null, null, null);
        } catch (ApiException e) {
            finish(job.id, PlanStatus.FAILED, "the chosen variant could not be registered: " + e.getMessage(), null,
                    null, null);
        } catch (IOException e) {
            finish(job.id, PlanStatus.FAILED, "I/O error: " + e.getMessage(), null, null, null);
        } catch (RuntimeException e) {
            LOG.errorf(e, "plan %s failed", job.id);
            finish(job.id, PlanStatus.FAILED, "engine error: " + e.getMessage(), null, null, null);
        }
    }

    /** Lineage rows for the chosen variant and both baselines, and the registry row, in one transaction. */
    private void record(PlanJobEntity job, String baseSha, Plan plan, long version, boolean registerVariant) {
        long now = System.currentTimeMillis();
        Plan.CandidateResult chosen = plan.chosen();
        QuarkusTransaction.requiringNew().run(() -> {
            ObjectNode metrics = json.valueToTree(chosen);
            metrics.set("sources", json.valueToTree(plan.sources()));
            VariantLineageEntity main = lineage(job, plan, VariantLineageEntity.CHOSEN, version, chosen.sha256(),
                    baseSha, chosen.recipe(), toJson(chosen.params()), metrics, "chosen by plan " + job.id
                            + ": " + plan.reason(), now);
            String uncompressed = null;
            String reference = null;
            for (Plan.Baseline b : plan.baselines()) {
                ObjectNode m = json.valueToTree(b);
                boolean base = b.role().equals("uncompressed");
                VariantLineageEntity e = lineage(job, plan, b.role(), base ? job.baseVersion : null, b.sha256(),
                        baseSha, base ? null : chosen.recipe(), base ? null : toJson(chosen.params()), m,
                        b.description(), now);
                if (base) {
                    uncompressed = e.id;
                } else {
                    reference = e.id;
                }
            }
            if (registerVariant) {
                registry(job.modelName, job.deviceClassId, version, job.id, main.id, uncompressed, reference, now);
            }
        });
    }

    private void registry(String modelName, String classId, long version, String planId, String lineageId,
            String uncompressed, String reference, long now) {
        String key = ClassVariantEntity.key(modelName, classId);
        ClassVariantEntity cv = session.find(ClassVariantEntity.class, key);
        boolean created = cv == null;
        if (created) {
            cv = new ClassVariantEntity();
            cv.id = key;
            cv.modelName = modelName;
            cv.deviceClassId = classId;
        }
        cv.modelVersion = version;
        cv.planJobId = planId;
        cv.lineageId = lineageId;
        cv.uncompressedLineageId = uncompressed;
        cv.referenceLineageId = reference;
        cv.updatedAt = now;
        if (created) {
            session.persist(cv);
        }
    }

    /**
     * Makes a finished plan's chosen variant the class's registry row (with that plan's baselines). For plans
     * submitted without registering, e.g. the closed loop's, once their canary was promoted.
     */
    public void makeClassVariant(String planId) {
        QuarkusTransaction.requiringNew().run(() -> {
            PlanJobEntity job = requireJob(planId);
            if (job.status != PlanStatus.CHOSEN || job.resultVersion == null) {
                throw new ApiException(ErrorCode.CONFLICT, "plan '" + planId + "' has no chosen variant ("
                        + job.status + ")");
            }
            String main = null;
            String uncompressed = null;
            String reference = null;
            for (VariantLineageEntity e : session.createSelectionQuery("from VariantLineageEntity where "
                    + "planJobId = :p", VariantLineageEntity.class).setParameter("p", planId).getResultList()) {
                switch (e.role) {
                    case VariantLineageEntity.CHOSEN -> main = e.id;
                    case "uncompressed" -> uncompressed = e.id;
                    default -> reference = e.id;
                }
            }
            if (main == null) {
                throw new IllegalStateException("plan " + planId + " recorded no lineage for its choice");
            }
            registry(job.modelName, job.deviceClassId, job.resultVersion, planId, main, uncompressed, reference,
                    System.currentTimeMillis());
        });
    }

    /** The registry row of a model for a class, or null. */
    public ClassVariantEntity classVariant(String modelName, String classId) {
        return QuarkusTransaction.requiringNew().call(() -> session.find(ClassVariantEntity.class,
                ClassVariantEntity.key(modelName, classId)));
    }

    /** A plan job row (detached), or null. */
    public PlanJobEntity job(String id) {
        return QuarkusTransaction.requiringNew().call(() -> session.find(PlanJobEntity.class, id));
    }

    /** The lineage row of a registry entry or plan (detached), or null. */
    public VariantLineageEntity lineage(String id) {
        return id == null ? null : QuarkusTransaction.requiringNew().call(() -> session.find(VariantLineageEntity.class,
                id));
    }

    private List<Candidate> candidates(JsonNode stored) {
        if (stored == null || !stored.isArray()) {
            return null;
        }
        List<Candidate> out = new ArrayList<>();
        for (JsonNode o : stored) {
            Map<String, String> params = json.convertValue(o.get("params"),
                    json.getTypeFactory().constructMapType(TreeMap.class, String.class, String.class));
            List<String> requires = json.convertValue(o.get("requires"),
                    json.getTypeFactory().constructCollectionType(List.class, String.class));
            out.add(new Candidate(o.get("id").asText(), o.get("recipe").asText(), new TreeMap<>(params), requires));
        }
        return out;
    }

    private VariantLineageEntity lineage(PlanJobEntity job, Plan plan, String role, Long version, String sha,
            String baseSha, String recipe, String params, JsonNode metrics, String description, long now) {
        VariantLineageEntity e = new VariantLineageEntity();
        e.id = UUID.randomUUID().toString();
        e.planJobId = job.id;
        e.modelName = job.modelName;
        e.deviceClassId = job.deviceClassId;
        e.role = role;
        e.modelVersion = version;
        e.sha256 = sha;
        e.baseSha256 = baseSha;
        e.parentVersion = job.baseVersion;
        e.recipe = recipe;
        e.params = params;
        e.calibrationSha256 = job.calibrationSha256;
        e.validationSha256 = job.validationSha256;
        e.engineVersion = plan.engineVersion();
        e.metrics = toJson(metrics);
        e.description = truncate(description, 1000);
        e.createdAt = now;
        session.persist(e);
        return e;
    }

    private void finish(String id, PlanStatus status, String error, String choice, Long version, String[] plans) {
        QuarkusTransaction.requiringNew().run(() -> {
            PlanJobEntity e = session.find(PlanJobEntity.class, id);
            if (e == null) {
                return;
            }
            e.status = status;
            e.error = truncate(error, 4096);
            e.message = switch (status) {
                case CHOSEN -> "chose " + choice + "; registered as version " + version
                        + " and as the class's variant (not deployed)";
                case NO_CHOICE -> "no candidate meets every SLO; see the plan's closest candidates";
                case CANCELLED -> "cancelled";
                default -> "failed";
            };
            e.progress = status == PlanStatus.CHOSEN || status == PlanStatus.NO_CHOICE ? 1 : e.progress;
            e.choice = choice;
            e.resultVersion = version;
            if (plans != null) {
                e.planJsonSha256 = plans[0];
                e.planHtmlSha256 = plans[1];
            }
            e.finishedAt = System.currentTimeMillis();
        });
    }


    // ---------------------------------------------------------------- queries and cancel

    public PlanView get(String id) {
        PlanJobEntity e = QuarkusTransaction.requiringNew().call(() -> requireJob(id));
        return view(e, live.get(id));
    }

    public List<PlanView> list(String model) {
        List<PlanJobEntity> all = QuarkusTransaction.requiringNew().call(() -> (model == null
                ? session.createSelectionQuery("from PlanJobEntity order by createdAt desc", PlanJobEntity.class)
                : session.createSelectionQuery("from PlanJobEntity where modelName = :model order by createdAt desc",
                        PlanJobEntity.class).setParameter("model", model)).setMaxResults(200).getResultList());
        return all.stream().map(e -> view(e, live.get(e.id))).toList();
    }

    public String page(String id) {
        PlanJobEntity e = QuarkusTransaction.requiringNew().call(() -> requireJob(id));
        if (e.planHtmlSha256 == null) {
            throw new ApiException(ErrorCode.NOT_FOUND, "plan '" + id + "' has no page yet (status " + e.status + ")");
        }
        return new String(readBlob(e.planHtmlSha256), StandardCharsets.UTF_8);
    }

    /** A queued plan is CANCELLED at once; a running one stops at the engine's next check. */
    public PlanView cancel(String id) {
        Live l = live.get(id);
        PlanJobEntity e = QuarkusTransaction.requiringNew().call(() -> {
            int cancelled = session.createMutationQuery("update PlanJobEntity j set j.status = :cancelled, "
                            + "j.message = 'cancelled', j.error = 'cancelled', j.finishedAt = :now "
                            + "where j.id = :id and j.status = :queued")
                    .setParameter("cancelled", PlanStatus.CANCELLED).setParameter("queued", PlanStatus.QUEUED)
                    .setParameter("now", System.currentTimeMillis()).setParameter("id", id).executeUpdate();
            PlanJobEntity job = requireJob(id);
            if (cancelled == 0 && job.status.terminal()) {
                throw new ApiException(ErrorCode.CONFLICT, "plan '" + id + "' already finished (" + job.status + ")");
            }
            return job;
        });
        if (l != null) {
            l.cancelRequested = true;
            if (e.status == PlanStatus.CANCELLED && l.future != null) {
                l.future.cancel(false);
                executor.remove((Runnable) l.future);
                live.remove(id);
                l = null;
            } else {
                l.message = "cancellation requested";
            }
        }
        return view(e, l);
    }

    public List<VariantView> variants(String classId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            classes.require(classId);
            List<ClassVariantEntity> rows = session.createSelectionQuery("from ClassVariantEntity where "
                    + "deviceClassId = :c order by modelName", ClassVariantEntity.class).setParameter("c", classId)
                    .getResultList();
            List<VariantView> out = new ArrayList<>();
            for (ClassVariantEntity r : rows) {
                List<LineageView> baselines = new ArrayList<>();
                for (String lid : new String[] {r.uncompressedLineageId, r.referenceLineageId}) {
                    if (lid != null) {
                        baselines.add(lineageView(session.find(VariantLineageEntity.class, lid)));
                    }
                }
                out.add(new VariantView(r.modelName, r.deviceClassId, r.modelVersion, r.planJobId,
                        lineageView(session.find(VariantLineageEntity.class, r.lineageId)), baselines, r.updatedAt));
            }
            return out;
        });
    }

    private LineageView lineageView(VariantLineageEntity e) {
        return new LineageView(e.role, e.modelVersion, e.sha256, e.baseSha256, e.parentVersion, e.recipe,
                e.params == null ? null : readTree(e.params), e.calibrationSha256, e.validationSha256,
                e.engineVersion, readTree(e.metrics), e.description, e.planJobId, e.createdAt);
    }

    private PlanJobEntity requireJob(String id) {
        PlanJobEntity e = session.find(PlanJobEntity.class, id);
        if (e == null) {
            throw ApiException.notFound("plan", id);
        }
        return e;
    }

    private PlanView view(PlanJobEntity e, Live l) {
        double progress = e.progress;
        String message = e.message;
        if (l != null && !e.status.terminal()) {
            progress = l.progress;
            message = l.message;
        }
        JsonNode plan = e.planJsonSha256 == null ? null : readTree(new String(readBlob(e.planJsonSha256),
                StandardCharsets.UTF_8));
        return new PlanView(e.id, e.status, progress, message, new ModelRef(e.modelName, e.baseVersion),
                e.deviceClassId, e.calibrationDataset, e.validationDataset, e.choice, e.resultVersion, plan, e.error,
                e.createdAt, e.startedAt, e.finishedAt);
    }

    private JsonNode readTree(String s) {
        try {
            return json.readTree(s);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("stored JSON is not readable: " + ex.getMessage(), ex);
        }
    }

    private byte[] readBlob(String sha) {
        try {
            return blobs.read(sha);
        } catch (IOException ex) {
            throw new IllegalStateException("blob " + sha + " cannot be read: " + ex.getMessage(), ex);
        }
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    private static String truncate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max - 3) + "...";
    }

    /** For tests: whether no plan is queued or running in this process. */
    boolean idle() {
        return live.isEmpty();
    }
}
