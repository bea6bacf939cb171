package io.edgefleet.server.compression;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.engine.BadInputException;
import io.edgefleet.engine.data.Dataset;
import io.edgefleet.engine.eval.Evaluator;
import io.edgefleet.engine.gate.AccuracyGate;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.pipeline.CompressionJob;
import io.edgefleet.engine.pipeline.JobResult;
import io.edgefleet.engine.pipeline.Recipe;
import io.edgefleet.engine.pipeline.RecipeRegistry;
import io.edgefleet.engine.report.ReportWriter;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.compression.CompressionDtos.BaseRef;
import io.edgefleet.server.compression.CompressionDtos.Budget;
import io.edgefleet.server.compression.CompressionDtos.JobRequest;
import io.edgefleet.server.compression.CompressionDtos.JobView;
import io.edgefleet.server.compression.CompressionDtos.ParameterView;
import io.edgefleet.server.compression.CompressionDtos.RecipeView;
import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.deviceclass.DeviceClassEntity;
import io.edgefleet.server.deviceclass.DeviceClassService;
import io.edgefleet.server.model.BlobStore;
import io.edgefleet.server.model.ModelDtos.ModelVersionView;
import io.edgefleet.server.model.ModelService;
import io.edgefleet.server.model.ModelVersionEntity;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.server.drift.ReferenceProfileService;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
 * Asynchronous compression jobs: a request is checked and recorded as QUEUED, then run by the engine on a small
 * worker pool (never on a request thread). Progress lives in memory while a job runs; status changes, the verdict
 * and the report sha256s are stored. A variant that passes the gate is registered through {@link ModelService}
 * exactly like an upload, with lineage to its base; a rejected one is not registered, only its report is kept.
 */
@ApplicationScoped
public class CompressionService {
    private static final Logger LOG = Logger.getLogger(CompressionService.class);
    static final String RESTARTED = "server restarted while the job was queued or running";

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
    EdgefleetConfig config;

    @Inject
    ObjectMapper json;

    @Inject
    io.edgefleet.server.config.InstanceId instanceId;

    @Inject
    ReferenceProfileService profiles;

    private ThreadPoolExecutor executor;

    /** Live state of queued and running jobs (this process only). */
    private final Map<String, Live> live = new ConcurrentHashMap<>();

    private static final class Live {
        volatile double progress;
        volatile String message = "queued";
        volatile boolean cancelRequested;
        volatile Future<?> future;
    }

    void onStart(@Observes @Priority(250) StartupEvent event) {
        int marked = markInterrupted();
        if (marked > 0) {
            LOG.warnf("marked %d compression job(s) FAILED: %s", marked, RESTARTED);
        }
        int workers = Math.max(1, config.compression().workers());
        AtomicInteger n = new AtomicInteger();
        executor = new ThreadPoolExecutor(workers, workers, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(Math.max(1, config.compression().maxQueued())), r -> {
                    Thread t = new Thread(r, "edgefleet-compression-" + n.incrementAndGet());
                    t.setDaemon(true);
                    // Jobs are CPU-heavy and long: keep the request and MQTT threads responsive.
                    t.setPriority(Thread.NORM_PRIORITY - 1);
                    return t;
                });
    }

    void onStop(@Observes ShutdownEvent event) {
        // Unfinished jobs stay QUEUED/RUNNING in the database and are marked FAILED at the next start; they are not
        // recorded as CANCELLED, which would claim an operator decision.
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    /**
     * Jobs this replica's previous process left QUEUED or RUNNING can never finish: say so instead of showing them
     * forever. Jobs of other replicas (same database) are theirs; jobs without an owner predate owners.
     */
    int markInterrupted() {
        return QuarkusTransaction.requiringNew().call(() -> session.createMutationQuery(
                        "update CompressionJobEntity j set j.status = :failed, j.error = :why, j.message = :why, "
                                + "j.finishedAt = :now where j.status in (:queued, :running)"
                                + " and (j.owner = :me or j.owner is null)")
                .setParameter("me", instanceId.get())
                .setParameter("failed", JobStatus.FAILED).setParameter("why", RESTARTED)
                .setParameter("now", System.currentTimeMillis())
                .setParameter("queued", JobStatus.QUEUED).setParameter("running", JobStatus.RUNNING)
                .executeUpdate());
    }

    public List<RecipeView> recipes() {
        return RecipeRegistry.all().stream().map(r -> new RecipeView(r.name(), r.kind().name(), r.description(),
                r.needsCalibration(), r.passNames(), r.parameters(), r.specs().stream()
                        .map(s -> new ParameterView(s.name(), s.type().toString(), s.allowed(),
                                r.parameters().get(s.name())))
                        .toList())).toList();
    }

    // ---------------------------------------------------------------- submit

    public JobView submit(String modelName, long version, JobRequest req) {
        // What the request addresses comes first: a missing model version is 404 whatever the body says.
        QuarkusTransaction.requiringNew().run(() -> models.require(modelName, version));
        if (!RecipeRegistry.contains(req.recipe())) {
            throw new ApiException(ErrorCode.UNKNOWN_RECIPE, "unknown recipe '" + req.recipe() + "'; known recipes: "
                    + String.join(", ", RecipeRegistry.all().stream().map(Recipe::name).toList()));
        }
        Recipe recipe = RecipeRegistry.get(req.recipe());
        if (recipe.needsCalibration() && isBlank(req.calibrationDataset())) {
            throw ApiException.invalid("recipe '" + recipe.name() + "' needs calibration data: set calibrationDataset "
                    + "to an uploaded dataset");
        }
        Map<String, String> params = new TreeMap<>(req.params() == null ? Map.of() : req.params());
        for (Map.Entry<String, String> p : params.entrySet()) {
            if (p.getValue() == null) {
                throw ApiException.invalid("params." + p.getKey() + " must not be null");
            }
        }
        try {
            recipe.withParameters(params);
        } catch (BadInputException e) {
            throw ApiException.invalid(e.getMessage());
        }
        String id = UUID.randomUUID().toString();
        CompressionJobEntity job = QuarkusTransaction.requiringNew().call(() -> {
            models.require(modelName, version);
            CompressionJobEntity e = new CompressionJobEntity();
            e.id = id;
            e.modelName = modelName;
            e.baseVersion = version;
            e.recipe = recipe.name();
            e.params = toJson(params);
            if (!isBlank(req.calibrationDataset())) {
                e.calibrationDataset = req.calibrationDataset();
                e.calibrationSha256 = datasets.require(req.calibrationDataset()).sha256;
            }
            if (!isBlank(req.validationDataset())) {
                e.validationDataset = req.validationDataset();
                e.validationSha256 = datasets.require(req.validationDataset()).sha256;
            }
            AccuracyGate gate = AccuracyGate.defaults();
            if (!isBlank(req.deviceClassId())) {
                DeviceClassEntity c = classes.find(req.deviceClassId());
                if (c == null) {
                    throw new ApiException(ErrorCode.UNKNOWN_DEVICE_CLASS, "device class '" + req.deviceClassId()
                            + "' does not exist");
                }
                e.deviceClassId = c.id;
                gate = new AccuracyGate(c.accuracyOverallPoints, c.accuracyCohortPoints);
            }
            if (req.budget() != null) {
                // An explicit budget is the operator's decision for this job; it overrides the class's.
                gate = new AccuracyGate(req.budget().overallPoints(), req.budget().cohortPoints());
            }
            e.budgetOverall = gate.overallPoints();
            e.budgetCohort = gate.cohortPoints();
            e.status = JobStatus.QUEUED;
            e.owner = instanceId.get();
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
                CompressionJobEntity e = session.find(CompressionJobEntity.class, id);
                if (e != null) {
                    session.remove(e);
                }
            });
            throw new ApiException(ErrorCode.COMPRESSION_QUEUE_FULL, "too many compression jobs are waiting (limit "
                    + config.compression().maxQueued() + ", edgefleet.compression.max-queued); try again later");
        }
        return view(job, l);
    }


    // ---------------------------------------------------------------- run (worker thread)

    private void run(String id, Live l) {
        try {
            CompressionJobEntity job = QuarkusTransaction.requiringNew().call(() -> claim(id));
            if (job != null) {
                execute(job, l);
            }
        } catch (RuntimeException | Error e) {
            LOG.errorf(e, "compression job %s failed unexpectedly", id);
            finish(id, JobStatus.FAILED, "internal error: " + e, null, null, null, null);
        } finally {
            live.remove(id);
        }
    }

    /**
     * Claims a queued job for this replica: the row is locked with {@code FOR UPDATE SKIP LOCKED} (PostgreSQL and
     * H2 2.x), so a replica never waits on a job another one is claiming, and only a job still QUEUED starts (a
     * cancel that won the race leaves it CANCELLED). Null when there is nothing to run.
     */
    CompressionJobEntity claim(String id) {
        CompressionJobEntity job = session.createSelectionQuery(
                        "from CompressionJobEntity j where j.id = :id and j.status = :queued", CompressionJobEntity.class)
                .setParameter("id", id).setParameter("queued", JobStatus.QUEUED)
                .setLockMode(jakarta.persistence.LockModeType.PESSIMISTIC_WRITE)
                .setHint("jakarta.persistence.lock.timeout", org.hibernate.LockOptions.SKIP_LOCKED)
                .getResultStream().findFirst().orElse(null);
        if (job == null) {
            return null;
        }
        job.status = JobStatus.RUNNING;
        job.message = "starting";
        job.startedAt = System.currentTimeMillis();
        job.owner = instanceId.get();
        return job;
    }

    private void execute(CompressionJobEntity job, Live l) {
        String sha = QuarkusTransaction.requiringNew().call(() -> models.require(job.modelName, job.baseVersion).sha256);
        try {
            l.message = "loading the model and data";
            OnnxModel model = OnnxModel.read(models.artifactPath(sha));
            Dataset calibration = job.calibrationSha256 == null ? null
                    : datasets.load(job.calibrationDataset, job.calibrationSha256);
            Dataset validation = job.validationSha256 == null ? null
                    : datasets.load(job.validationDataset, job.validationSha256);
            Map<String, String> params = json.readValue(job.params,
                    json.getTypeFactory().constructMapType(TreeMap.class, String.class, String.class));
            Recipe recipe = RecipeRegistry.get(job.recipe).withParameters(params);
            int runs = config.compression().latencyRuns();
            Evaluator.Options eval = Evaluator.Options.defaults().withThreads(Math.max(1, config.compression().evalThreads()));
            if (runs > 0) {
                eval = eval.withLatencyRuns(Math.min(10, runs), runs);
            }
            JobResult result = CompressionJob.builder(model, recipe)
                    .modelName(job.modelName + "-v" + job.baseVersion)
                    .calibration(calibration)
                    .validation(validation)
                    .gate(new AccuracyGate(job.budgetOverall, job.budgetCohort))
                    .evaluation(eval)
                    .measureLatency(runs > 0)
                    .progress((f, msg) -> {
                        l.progress = Math.max(0, Math.min(1, f));
                        l.message = msg;
                    })
                    .cancelled(() -> l.cancelRequested)
                    .build().run();
            l.message = "storing the report";
            String reportJson = blobs.putText(ReportWriter.json(result.report()));
            String reportMd = blobs.putText(ReportWriter.markdown(result.report()));
            String summary = truncate(result.verdict().summary(), 1000);
            if (!result.passed()) {
                finish(job.id, JobStatus.REJECTED, null, null, false, summary, new String[] {reportJson, reportMd});
                return;
            }
            // Registered like an upload (validated by the inspector, content-addressed), with lineage.
            ObjectNode recipeJson = json.createObjectNode();
            recipeJson.put("name", recipe.name());
            recipeJson.set("params", json.valueToTree(params));
            recipeJson.put("compressionJob", job.id);
            ModelVersionView created = models.register(job.modelName, result.variant().toBytes(),
                    new ModelService.Lineage(job.baseVersion, json.writeValueAsString(recipeJson)));
            l.message = "building the drift reference profile";
            boolean onValidation = validation != null;
            profiles.buildForVariant(job.modelName, created.version(), result.variant(),
                    onValidation ? validation : calibration,
                    onValidation ? ReferenceProfile.SOURCE_VALIDATION : ReferenceProfile.SOURCE_CALIBRATION,
                    onValidation ? job.validationDataset : job.calibrationDataset,
                    onValidation ? job.validationSha256 : job.calibrationSha256);
            finish(job.id, JobStatus.SUCCEEDED, null, created.version(), true, summary,
                    new String[] {reportJson, reportMd});
        } catch (CancellationException e) {
            finish(job.id, JobStatus.CANCELLED, "cancelled", null, null, null, null);
        } catch (BadInputException e) {
            finish(job.id, JobStatus.FAILED, e.getMessage(), null, null, null, null);
        } catch (ApiException e) {
            // The variant did not pass the registry's own checks (size limit, inspection).
            finish(job.id, JobStatus.FAILED, "the variant could not be registered: " + e.getMessage(), null, null,
                    null, null);
        } catch (IOException e) {
            finish(job.id, JobStatus.FAILED, "I/O error: " + e.getMessage(), null, null, null, null);
        } catch (RuntimeException e) {
            LOG.errorf(e, "compression job %s failed", job.id);
            finish(job.id, JobStatus.FAILED, "engine error: " + e.getMessage(), null, null, null, null);
        }
    }

    private void finish(String id, JobStatus status, String error, Long version, Boolean passed, String summary,
            String[] reports) {
        QuarkusTransaction.requiringNew().run(() -> {
            CompressionJobEntity e = session.find(CompressionJobEntity.class, id);
            if (e == null) {
                return;
            }
            e.status = status;
            e.error = error == null ? null : truncate(error, 4096);
            e.message = switch (status) {
                case SUCCEEDED -> "variant registered as version " + version;
                case REJECTED -> "the accuracy gate rejected the variant; see the report";
                case CANCELLED -> "cancelled";
                default -> "failed";
            };
            e.progress = status == JobStatus.SUCCEEDED || status == JobStatus.REJECTED ? 1 : e.progress;
            e.resultVersion = version;
            e.gatePassed = passed;
            e.gateSummary = summary;
            if (reports != null) {
                e.reportJsonSha256 = reports[0];
                e.reportMdSha256 = reports[1];
            }
            e.finishedAt = System.currentTimeMillis();
        });
    }


    // ---------------------------------------------------------------- queries and cancel

    public JobView get(String id) {
        CompressionJobEntity e = QuarkusTransaction.requiringNew().call(() -> requireJob(id));
        return view(e, live.get(id));
    }

    public List<JobView> list(String model) {
        List<CompressionJobEntity> all = QuarkusTransaction.requiringNew().call(() -> (model == null
                ? session.createSelectionQuery("from CompressionJobEntity order by createdAt desc",
                        CompressionJobEntity.class)
                : session.createSelectionQuery("from CompressionJobEntity where modelName = :model "
                        + "order by createdAt desc", CompressionJobEntity.class).setParameter("model", model))
                .setMaxResults(200).getResultList());
        return all.stream().map(e -> view(e, live.get(e.id))).toList();
    }

    public String reportMarkdown(String id) {
        CompressionJobEntity e = QuarkusTransaction.requiringNew().call(() -> requireJob(id));
        if (e.reportMdSha256 == null) {
            throw new ApiException(ErrorCode.NOT_FOUND, "compression job '" + id + "' has no report (status "
                    + e.status + ")");
        }
        return new String(readBlob(e.reportMdSha256), StandardCharsets.UTF_8);
    }

    /**
     * Cancels a job: a queued one is CANCELLED at once; a running one is asked to stop and becomes CANCELLED when
     * the engine next checks (between steps). Finished jobs cannot be cancelled.
     */
    public JobView cancel(String id) {
        Live l = live.get(id);
        CompressionJobEntity e = QuarkusTransaction.requiringNew().call(() -> {
            int cancelled = session.createMutationQuery("update CompressionJobEntity j set j.status = :cancelled, "
                            + "j.message = 'cancelled', j.error = 'cancelled', j.finishedAt = :now "
                            + "where j.id = :id and j.status = :queued")
                    .setParameter("cancelled", JobStatus.CANCELLED).setParameter("queued", JobStatus.QUEUED)
                    .setParameter("now", System.currentTimeMillis()).setParameter("id", id).executeUpdate();
            CompressionJobEntity job = requireJob(id);
            if (cancelled == 0 && job.status.terminal()) {
                throw new ApiException(ErrorCode.CONFLICT, "compression job '" + id + "' already finished ("
                        + job.status + ")");
            }
            return job;
        });
        if (l != null) {
            l.cancelRequested = true;
            if (e.status == JobStatus.CANCELLED && l.future != null) {
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

    private CompressionJobEntity requireJob(String id) {
        CompressionJobEntity e = session.find(CompressionJobEntity.class, id);
        if (e == null) {
            throw ApiException.notFound("compression job", id);
        }
        return e;
    }

    private JobView view(CompressionJobEntity e, Live l) {
        double progress = e.progress;
        String message = e.message;
        if (l != null && !e.status.terminal()) {
            progress = l.progress;
            message = l.message;
        }
        CompressionDtos.JobResult result = null;
        if (e.reportJsonSha256 != null) {
            JsonNode report = readJson(e.reportJsonSha256);
            result = new CompressionDtos.JobResult(e.resultVersion, report.get("gate"), report);
        }
        return new JobView(e.id, e.status, progress, message, e.recipe, e.params,
                new BaseRef(e.modelName, e.baseVersion), e.calibrationDataset, e.validationDataset, e.deviceClassId,
                new Budget(e.budgetOverall, e.budgetCohort), result, e.error, e.createdAt, e.startedAt, e.finishedAt);
    }

    private JsonNode readJson(String sha) {
        try {
            return json.readTree(readBlob(sha));
        } catch (IOException ex) {
            throw new IllegalStateException("report " + sha + " is not readable JSON: " + ex.getMessage(), ex);
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

    /** For tests: whether no job is queued or running in this process. */
    boolean idle() {
        return live.isEmpty();
    }
}
