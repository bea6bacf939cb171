package io.edgefleet.server.benchmark;

import io.edgefleet.engine.eval.Evaluator;
import io.edgefleet.engine.eval.Latency;
import io.edgefleet.engine.eval.OrtRunner;
import io.edgefleet.engine.onnx.OnnxModel;
import io.edgefleet.engine.planner.FittedCostModel;
import io.edgefleet.engine.Progress;
import io.edgefleet.protocol.ArtifactRef;
import io.edgefleet.protocol.BenchmarkReport;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.benchmark.BenchmarkDtos.BenchmarkRequest;
import io.edgefleet.server.benchmark.BenchmarkDtos.BenchmarkView;
import io.edgefleet.server.benchmark.BenchmarkDtos.CostModelView;
import io.edgefleet.server.benchmark.BenchmarkDtos.DeviceResult;
import io.edgefleet.server.device.DeviceEntity;
import io.edgefleet.server.deviceclass.DeviceClassEntity;
import io.edgefleet.server.model.ModelService;
import io.edgefleet.server.model.ModelVersionEntity;
import io.edgefleet.server.mqtt.MqttGateway;
import io.edgefleet.server.rollout.ArtifactPublisher;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * Benchmark jobs (issue 15.2): the artifact is published for the class like a deployment's, N online devices of the
 * class get a signed BENCHMARK command, the server measures the same artifact itself (single thread, batch 1, like the
 * planner), and the devices' {@link BenchmarkReport}s are stored. When every device answered, or the job's deadline
 * passed, the job ends and the class's cost model is refitted over all its batch-1 reports
 * ({@link FittedCostModel}); the planner then uses it for that class.
 */
@ApplicationScoped
public class BenchmarkService {
    private static final Logger LOG = Logger.getLogger(BenchmarkService.class);
    public static final String RUNNING = "RUNNING";
    static final int MAX_DEVICES = 100;

    @Inject
    Session session;

    @Inject
    ModelService models;

    @Inject
    ArtifactPublisher publisher;

    @Inject
    MqttGateway gateway;

    @Inject
    BenchmarkConfig config;

    private ScheduledExecutorService worker;
    /** Jobs whose server measurement has been started (once per job and server run; a restart measures again). */
    private final java.util.Set<String> measuring = java.util.concurrent.ConcurrentHashMap.newKeySet();

    void onStart(@Observes StartupEvent event) {
        worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "edgefleet-benchmarks");
            t.setDaemon(true);
            t.setPriority(Thread.NORM_PRIORITY - 1);
            return t;
        });
        worker.scheduleWithFixedDelay(this::sweep, 2, 2, TimeUnit.SECONDS);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (worker != null) {
            worker.shutdownNow();
        }
    }

    // ---------------------------------------------------------------- submit

    public BenchmarkView submit(String classId, BenchmarkRequest req) {
        if (req == null) {
            throw ApiException.invalid("a body with model and version is required");
        }
        if (req.model() == null || req.model().isBlank() || req.version() == null) {
            throw ApiException.invalid("model and version are required");
        }
        int n = req.devices() == null ? 1 : req.devices();
        if (n < 1 || n > MAX_DEVICES) {
            throw ApiException.invalid("devices must be in [1, " + MAX_DEVICES + "]");
        }
        Integer seconds = req.seconds() == null && req.runs() == null ? Integer.valueOf(config.defaultSeconds())
                : req.seconds();
        if (seconds != null && (seconds < 1 || seconds > Command.MAX_BENCHMARK_SECONDS)) {
            throw ApiException.invalid("seconds must be in [1, " + Command.MAX_BENCHMARK_SECONDS + "]");
        }
        if (req.runs() != null && (req.runs() < 1 || req.runs() > Command.MAX_BENCHMARK_RUNS)) {
            throw ApiException.invalid("runs must be in [1, " + Command.MAX_BENCHMARK_RUNS + "]");
        }
        int batch = req.batch() == null ? 1 : req.batch();
        if (batch < 1 || batch > Command.MAX_BENCHMARK_BATCH) {
            throw ApiException.invalid("batch must be in [1, " + Command.MAX_BENCHMARK_BATCH + "]");
        }
        Integer interval = req.intervalMs();
        if (interval != null && (interval < 0 || interval > Command.MAX_BENCHMARK_INTERVAL_MS)) {
            throw ApiException.invalid("intervalMs must be in [0, " + Command.MAX_BENCHMARK_INTERVAL_MS
                    + "] (0: each device's own inference interval)");
        }
        if (interval != null && interval > 0 && seconds == null
                && (long) req.runs() * interval > Command.MAX_BENCHMARK_SECONDS * 1000L) {
            throw ApiException.invalid("runs x intervalMs must fit in " + Command.MAX_BENCHMARK_SECONDS
                    + " s when seconds is absent; ask for fewer runs or give seconds");
        }
        record Picked(ModelRef model, long size, List<String> devices) {
        }
        Picked picked = QuarkusTransaction.requiringNew().call(() -> {
            if (!Topics.isId(classId) || session.find(DeviceClassEntity.class, classId) == null) {
                throw ApiException.notFound("device class", classId);
            }
            ModelVersionEntity mv = models.find(req.model(), req.version());
            if (mv == null) {
                throw new ApiException(ErrorCode.UNKNOWN_MODEL, "model version " + req.model() + ":" + req.version()
                        + " does not exist");
            }
            List<String> online = session.createSelectionQuery("select d.id from DeviceEntity d where d.classId = :c"
                            + " and d.online = true order by d.id", String.class)
                    .setParameter("c", classId).setMaxResults(n).getResultList();
            return new Picked(new ModelRef(mv.name, mv.version, mv.sha256), mv.size, online);
        });
        if (picked.devices().isEmpty()) {
            throw new ApiException(ErrorCode.NO_TARGETS, "no device of class '" + classId + "' is online; nothing was sent");
        }
        if (!gateway.isConnected()) {
            throw new ApiException(ErrorCode.BROKER_UNAVAILABLE,
                    "the server is not connected to the MQTT broker; nothing was sent, try again shortly");
        }
        String id = UUID.randomUUID().toString();
        long now = System.currentTimeMillis();
        long runFor = seconds != null ? seconds : Command.MAX_BENCHMARK_SECONDS;
        BenchmarkJobEntity job = new BenchmarkJobEntity();
        job.id = id;
        job.deviceClassId = classId;
        job.modelName = picked.model().model();
        job.modelVersion = picked.model().version();
        job.sha256 = picked.model().sha256();
        job.devicesRequested = n;
        job.devices = String.join(",", picked.devices());
        job.seconds = seconds;
        job.runs = req.runs();
        job.batch = batch;
        job.intervalMs = interval;
        job.status = RUNNING;
        job.message = picked.devices().size() < n ? "only " + picked.devices().size() + " of " + n
                + " requested devices are online; measuring on those" : "sent to " + n + " device(s)";
        job.deadline = now + runFor * 1000 + config.grace().toMillis();
        job.createdAt = now;
        QuarkusTransaction.requiringNew().run(() -> session.persist(job));

        publisher.publish(classId, picked.model(), false);
        ArtifactRef ref = new ArtifactRef(classId, picked.model(), picked.size(),
                Topics.manifest(classId, picked.model().sha256()));
        for (String device : picked.devices()) {
            Command cmd = Command.benchmark(id, ref, seconds, req.runs(), batch, interval);
            gateway.sendCommand(device, cmd).whenComplete((ok, e) -> {
                if (e != null) {
                    LOG.warnf("benchmark %s: command to %s not sent: %s", id, device, e.getMessage());
                }
            });
        }
        LOG.infof("benchmark %s of %s on %s started for class %s", id, picked.model().label(), picked.devices(), classId);
        return view(id);
    }

    /**
     * The server's own batch-1 latency of the artifact, single-threaded, as the planner measures candidates. It runs
     * once the devices have answered (or the deadline passed), not beside the artifact's publication and the devices'
     * downloads: on a server that also hosts the broker those took the cores and inflated the figure the fit divides
     * by (a benchmark's server p95 of 0.82 ms for a model its plan timed at 0.34 ms moments later, load 15).
     */
    private void measureOnServer(String id) {
        BenchmarkJobEntity job = QuarkusTransaction.requiringNew().call(() -> session.find(BenchmarkJobEntity.class, id));
        if (job == null) {
            return;
        }
        try {
            OnnxModel model = OnnxModel.read(models.artifactPath(job.sha256));
            Evaluator eval = new Evaluator(Evaluator.Options.defaults().withThreads(1)
                    .withLatencyRuns(Math.min(10, config.serverRuns()), Math.max(1, config.serverRuns())));
            Latency l = eval.latency(model, model, OrtRunner.syntheticFeeds(model), Progress.NONE);
            QuarkusTransaction.requiringNew().run(() -> {
                BenchmarkJobEntity j = session.find(BenchmarkJobEntity.class, id);
                // both copies ran interleaved; their pooled figures would need the raw histograms, the variant's do
                j.serverP50Ms = l.variant().p50();
                j.serverP95Ms = l.variant().p95();
                j.serverMeanMs = l.variant().mean();
            });
        } catch (RuntimeException e) {
            LOG.warnf(e, "benchmark %s: the server cannot measure %s:%d", id, job.modelName, job.modelVersion);
            QuarkusTransaction.requiringNew().run(() -> {
                BenchmarkJobEntity j = session.find(BenchmarkJobEntity.class, id);
                j.message = "the server cannot measure the artifact itself (" + e.getMessage()
                        + "); its reports are stored but not fitted";
                j.serverP95Ms = -1.0;
            });
        }
        tryFinish(id, true);
    }

    // ---------------------------------------------------------------- reports

    /** A decoded report from a device's benchmark topic. True when stored or judged a duplicate/stranger. */
    public boolean onReport(BenchmarkReport r, long receivedAt) {
        boolean stored = QuarkusTransaction.requiringNew().call(() -> {
            BenchmarkJobEntity job = session.find(BenchmarkJobEntity.class, r.jobId());
            if (job == null || !Arrays.asList(job.devices.split(",")).contains(r.deviceId())) {
                LOG.warnf("ignoring a benchmark report of device %s for unknown job %s", r.deviceId(), r.jobId());
                return false;
            }
            if (job.sha256 != null && r.model() != null && !job.sha256.equals(r.model().sha256())) {
                LOG.warnf("ignoring a benchmark report of device %s for job %s about another artifact", r.deviceId(),
                        r.jobId());
                return false;
            }
            boolean exists = session.createSelectionQuery("select count(r) from BenchmarkResultEntity r where "
                            + "r.jobId = :j and r.deviceId = :d", Long.class)
                    .setParameter("j", r.jobId()).setParameter("d", r.deviceId()).getSingleResult() > 0;
            if (exists) {
                return false;
            }
            BenchmarkResultEntity e = new BenchmarkResultEntity();
            e.id = UUID.randomUUID().toString();
            e.jobId = r.jobId();
            e.deviceId = r.deviceId();
            e.status = r.status().name();
            e.reason = r.reason() == null ? null : r.reason().name();
            e.detail = r.detail();
            e.inferences = r.inferences();
            e.batch = r.batch();
            e.seconds = r.seconds();
            if (r.latency() != null) {
                e.p50Ms = r.latency().p50();
                e.p95Ms = r.latency().p95();
                e.p99Ms = r.latency().p99();
                e.maxMs = r.latency().max();
                e.meanMs = r.latency().mean();
            }
            e.energyMj = r.energyMj();
            e.energySource = r.energySource();
            e.receivedAt = receivedAt;
            session.persist(e);
            return true;
        });
        if (stored) {
            tryFinish(r.jobId(), false);
        }
        return true;
    }

    private void sweep() {
        try {
            List<String> due = QuarkusTransaction.requiringNew().call(() -> session.createSelectionQuery(
                    "select j.id from BenchmarkJobEntity j where j.status = :s", String.class)
                    .setParameter("s", RUNNING).getResultList());
            for (String id : due) {
                tryFinish(id, true);
            }
        } catch (RuntimeException e) {
            LOG.warnf("benchmark sweep failed: %s", e.toString());
        }
    }

    /**
     * Ends a job when every device answered (and the server measured), or at its deadline, and refits the class in the
     * same transaction: whoever sees the job ended reads the fit it caused (the job's end used to commit first, and a
     * client reading the cost model right after could get the old one).
     */
    synchronized void tryFinish(String id, boolean byClock) {
        QuarkusTransaction.requiringNew().run(() -> {
            BenchmarkJobEntity job = session.find(BenchmarkJobEntity.class, id);
            if (job == null || !RUNNING.equals(job.status)) {
                return;
            }
            List<BenchmarkResultEntity> results = results(id);
            int expected = job.devices.split(",").length;
            boolean measured = job.serverP95Ms != null;
            long now = System.currentTimeMillis();
            boolean late = now >= job.deadline;
            boolean answered = results.size() >= expected;
            if (!measured && (answered || late) && measuring.add(id)) {
                job.message = results.size() + " of " + expected + " device(s) reported; server measurement running";
                worker.execute(() -> measureOnServer(id));
                return;
            }
            if (!(answered && measured) && !(byClock && late && (measured || !measuring.contains(id)))) {
                job.message = results.size() + " of " + expected + " device(s) reported"
                        + (measured ? "" : answered || late ? "; server measurement running" : "");
                return;
            }
            long ok = results.stream().filter(r -> "COMPLETED".equals(r.status)).count();
            job.status = ok == expected ? "COMPLETED" : ok > 0 ? "PARTIAL" : "FAILED";
            job.message = ok + " of " + expected + " device(s) measured"
                    + (results.size() < expected ? "; " + (expected - results.size()) + " did not answer before the deadline"
                    : "") + (measured ? "" : "; the server measurement did not finish");
            job.finishedAt = now;
            // the class's refit commits with the job's end: a client that saw the job end reads the new fit
            session.flush();
            refitIn(job.deviceClassId);
        });
    }

    private List<BenchmarkResultEntity> results(String jobId) {
        return session.createSelectionQuery("from BenchmarkResultEntity r where r.jobId = :j order by r.deviceId",
                BenchmarkResultEntity.class).setParameter("j", jobId).getResultList();
    }

    // ---------------------------------------------------------------- the fit

    /** Refits the class's cost model over {@link #observations}; empty when nothing can be fitted yet. */
    public Optional<FittedCostModel> refit(String classId) {
        return QuarkusTransaction.requiringNew().call(() -> refitIn(classId));
    }

    /** {@link #refit} in the caller's transaction (a job's end commits with the fit it causes). */
    private Optional<FittedCostModel> refitIn(String classId) {
        Observations observed = observationsIn(classId);
        Integer pacing = observed.pacing();
        List<FittedCostModel.Observation> obs = observed.reports();
        FittedCostModel fit;
        try {
            fit = FittedCostModel.fit(classId, obs);
        } catch (IllegalArgumentException e) {
            LOG.infof("class %s: nothing to fit yet (%s)", classId, e.getMessage());
            return Optional.empty();
        }
        ClassCostModelEntity e = session.find(ClassCostModelEntity.class, classId);
        boolean fresh = e == null;
        if (fresh) {
            e = new ClassCostModelEntity();
            e.deviceClassId = classId;
        }
        e.p95Scale = fit.p95().scale();
        e.p95OffsetMs = fit.p95().offset();
        e.meanScale = fit.mean().scale();
        e.meanOffsetMs = fit.mean().offset();
        e.energyMjPerServerMs = fit.energyMjPerServerMs();
        e.reports = fit.reports();
        e.artifacts = fit.artifacts();
        e.latencyErrorPercent = fit.latencyErrorPercent();
        e.energyErrorPercent = fit.energyErrorPercent();
        e.fittedAt = System.currentTimeMillis();
        e.intervalMs = pacing;
        e.serverBasis = ClassCostModelEntity.BASIS;
        if (fresh) {
            session.persist(e);
        }
        LOG.infof("class %s: cost model %s (benchmarks %s)", classId, fit.summary(), pacing == null ? "back to back"
                : pacing == 0 ? "at each device's own interval" : "paced " + pacing + " ms");
        return Optional.of(fit);
    }

    /** The reports a class's fit uses, with the pacing of the newest finished job (null: back to back). */
    record Observations(Integer pacing, List<FittedCostModel.Observation> reports) {
    }

    /**
     * Every batch-1 report of the class's finished jobs with a server measurement that were paced like the newest of
     * them: a device's latency depends on its duty cycle (runs 20 ms apart find cold caches, runs back to back do not),
     * so one line over both would describe neither.
     */
    private Observations observations(String classId) {
        return QuarkusTransaction.requiringNew().call(() -> observationsIn(classId));
    }

    /** {@link #observations} in the caller's transaction. */
    private Observations observationsIn(String classId) {
        List<Integer> newest = session.createSelectionQuery("select j.intervalMs from BenchmarkJobEntity j where "
                        + "j.deviceClassId = :c and j.status <> :running and j.serverP95Ms > 0 order by j.finishedAt "
                        + "desc, j.createdAt desc", Integer.class).setParameter("c", classId)
                .setParameter("running", RUNNING).setMaxResults(1).getResultList();
        Integer pacing = newest.isEmpty() ? null : newest.get(0);
        var q = session.createSelectionQuery("select j.sha256, j.serverP50Ms, r.p95Ms, r.meanMs, r.energyMj "
                        + "from BenchmarkResultEntity r, BenchmarkJobEntity j where r.jobId = j.id"
                        + " and j.deviceClassId = :c and j.status <> :running and r.status = 'COMPLETED' and "
                        + "(r.batch is null or r.batch = 1) and j.serverP95Ms > 0 and j.serverP50Ms > 0 and "
                        + "r.p95Ms is not null and r.meanMs is not null and "
                        + (pacing == null ? "j.intervalMs is null" : "j.intervalMs = :i"), Object[].class)
                .setParameter("c", classId).setParameter("running", RUNNING);
        if (pacing != null) {
            q.setParameter("i", pacing);
        }
        List<FittedCostModel.Observation> out = new ArrayList<>();
        for (Object[] row : q.getResultList()) {
            out.add(new FittedCostModel.Observation((String) row[0], (Double) row[1], (Double) row[2],
                    (Double) row[3], (Double) row[4]));
        }
        return new Observations(pacing, out);
    }

    /** The class's fitted model for the planner, or empty (the declared profile applies). */
    public Optional<FittedCostModel> fitted(String classId) {
        refitOldBasis(classId);
        Map<String, Double> benchmarked = FittedCostModel.serverP50ByArtifact(observations(classId).reports());
        return QuarkusTransaction.requiringNew().call(() -> {
            ClassCostModelEntity e = session.find(ClassCostModelEntity.class, classId);
            return Optional.ofNullable(e == null ? null : model(e, benchmarked));
        });
    }

    /**
     * A fit stored before the server's median became the regressor (its lines are in units of the server's p95 and
     * mean) is refitted from the stored reports before anyone reads it; when no stored report can be fitted any more,
     * the old fit is dropped and the declared profile applies, rather than scaling medians by a p95 line.
     */
    private void refitOldBasis(String classId) {
        boolean old = QuarkusTransaction.requiringNew().call(() -> {
            ClassCostModelEntity e = Topics.isId(classId) ? session.find(ClassCostModelEntity.class, classId) : null;
            return e != null && !ClassCostModelEntity.BASIS.equals(e.serverBasis);
        });
        if (old && refit(classId).isEmpty()) {
            QuarkusTransaction.requiringNew().run(() -> {
                ClassCostModelEntity e = session.find(ClassCostModelEntity.class, classId);
                if (e != null && !ClassCostModelEntity.BASIS.equals(e.serverBasis)) {
                    session.remove(e);
                }
            });
            LOG.infof("class %s: its cost model was fitted on the server's p95 and no stored report refits it on the "
                    + "median; the declared profile applies until the next benchmark", classId);
        }
    }

    private static FittedCostModel model(ClassCostModelEntity e, Map<String, Double> serverP50ByArtifact) {
        return new FittedCostModel(e.deviceClassId, new FittedCostModel.Line(e.p95Scale, e.p95OffsetMs,
                e.latencyErrorPercent), new FittedCostModel.Line(e.meanScale, e.meanOffsetMs, Double.NaN),
                e.energyMjPerServerMs, e.reports, e.artifacts, e.latencyErrorPercent, e.energyErrorPercent,
                serverP50ByArtifact);
    }

    // ---------------------------------------------------------------- views

    public BenchmarkView get(String classId, String id) {
        BenchmarkView v = view(id);
        if (v == null || !v.deviceClassId().equals(classId)) {
            throw ApiException.notFound("benchmark", id);
        }
        return v;
    }

    /** The class's benchmark jobs, newest first (at most {@code limit}); 404 for an unknown class. */
    public List<BenchmarkView> list(String classId, int limit) {
        if (limit < 1 || limit > 500) {
            throw ApiException.invalid("limit must be 1..500");
        }
        List<String> ids = QuarkusTransaction.requiringNew().call(() -> {
            if (!Topics.isId(classId) || session.find(DeviceClassEntity.class, classId) == null) {
                throw ApiException.notFound("device class", classId);
            }
            return session.createSelectionQuery("select j.id from BenchmarkJobEntity j where j.deviceClassId = :c "
                    + "order by j.createdAt desc, j.id desc", String.class).setParameter("c", classId)
                    .setMaxResults(limit).getResultList();
        });
        List<BenchmarkView> out = new ArrayList<>();
        for (String id : ids) {
            BenchmarkView v = view(id);
            if (v != null) {
                out.add(v);
            }
        }
        return out;
    }

    private BenchmarkView view(String id) {
        return QuarkusTransaction.requiringNew().call(() -> {
            BenchmarkJobEntity j = session.find(BenchmarkJobEntity.class, id);
            if (j == null) {
                return null;
            }
            List<DeviceResult> rs = new ArrayList<>();
            for (BenchmarkResultEntity r : results(id)) {
                rs.add(new DeviceResult(r.deviceId, r.status, r.reason, r.detail, r.inferences, r.batch, r.seconds,
                        r.p50Ms, r.p95Ms, r.p99Ms, r.meanMs, r.energyMj, r.energySource));
            }
            List<String> devices = List.of(j.devices.split(","));
            return new BenchmarkView(j.id, j.deviceClassId, j.modelName, j.modelVersion, j.sha256, devices, j.seconds,
                    j.runs, j.batch, j.intervalMs, j.status, j.message, Math.min(1.0, (double) rs.size() / devices.size()),
                    j.serverP50Ms, j.serverP95Ms != null && j.serverP95Ms < 0 ? null : j.serverP95Ms, j.serverMeanMs, rs,
                    j.createdAt, j.finishedAt);
        });
    }

    public CostModelView costModel(String classId) {
        refitOldBasis(classId);
        return QuarkusTransaction.requiringNew().call(() -> {
            DeviceClassEntity c = Topics.isId(classId) ? session.find(DeviceClassEntity.class, classId) : null;
            if (c == null) {
                throw ApiException.notFound("device class", classId);
            }
            ClassCostModelEntity e = session.find(ClassCostModelEntity.class, classId);
            if (e == null) {
                double scale = c.latencyScale == null ? 1.0 : c.latencyScale;
                return new CostModelView(classId, "declared-profile", "p95", "mean", scale, 0, scale, 0, null, 0, 0, null, null,
                        String.format(Locale.ROOT, "declared latency scale %.3g; no device has reported a benchmark",
                                scale), null, null);
            }
            return new CostModelView(classId, "fitted", "p50", "p50", e.p95Scale, e.p95OffsetMs, e.meanScale, e.meanOffsetMs,
                    e.energyMjPerServerMs, e.reports, e.artifacts, e.latencyErrorPercent, e.energyErrorPercent,
                    model(e, Map.of()).summary(), e.fittedAt, e.intervalMs);
        });
    }

    /** Test hook: the reports stored per job. */
    Map<String, Integer> reportCounts() {
        return QuarkusTransaction.requiringNew().call(() -> {
            Map<String, Integer> m = new HashMap<>();
            for (Object[] row : session.createSelectionQuery("select r.jobId, count(r) from BenchmarkResultEntity r "
                    + "group by r.jobId", Object[].class).getResultList()) {
                m.put((String) row[0], ((Long) row[1]).intValue());
            }
            return m;
        });
    }
}
