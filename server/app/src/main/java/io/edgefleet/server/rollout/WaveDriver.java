package io.edgefleet.server.rollout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocol.ArtifactRef;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.Protocol;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.deviceclass.DeviceClassEntity;
import io.edgefleet.server.mqtt.BrokerConnected;
import io.edgefleet.server.mqtt.MqttGateway;
import io.edgefleet.server.rollout.WaveMachine.Decision;
import io.edgefleet.server.rollout.WaveMachine.Event;
import io.edgefleet.server.rollout.WaveMachine.Progress;
import io.edgefleet.server.rollout.WaveMachine.Tally;
import io.edgefleet.server.telemetry.TelemetryAggregates;
import io.edgefleet.server.telemetry.WindowSummary;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * Runs deployments through the {@link WaveMachine}: feeds it events inside the transaction that changed
 * the deployment (its row locked, so events of one deployment are serialised), persists its answer there,
 * and carries out its decisions once that transaction committed: deploy commands of a wave, rollbacks of a
 * halt, gate evaluation. Ticks once a second for soak ends and target timeouts; on every broker connection
 * it hands the machine a {@code Recovered} event, which is how a restarted server resumes a rollout.
 */
@ApplicationScoped
public class WaveDriver {
    private static final Logger LOG = Logger.getLogger(WaveDriver.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String HALTED = "HALTED";
    static final String TIMED_OUT_REASON = "TIMED_OUT";
    private static final List<TargetState> OPEN = List.of(TargetState.PENDING, TargetState.SENT,
            TargetState.DOWNLOADING, TargetState.ACTIVATED);

    @Inject
    Session session;

    @Inject
    MqttGateway gateway;

    @Inject
    ArtifactPublisher publisher;

    @Inject
    CommandDispatcher commands;

    @Inject
    TelemetryAggregates telemetry;

    /** Artifacts, deploy commands and gates: ordered work that may take a while. */
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> daemon(r, "edgefleet-rollout"));
    /** Rollbacks never wait behind an artifact upload. */
    private final ExecutorService urgent = Executors.newSingleThreadExecutor(r -> daemon(r, "edgefleet-rollout-halt"));
    /** Records what the broker acknowledged, in batches, off Paho's callback threads. */
    private final ExecutorService marker = Executors.newSingleThreadExecutor(r -> daemon(r, "edgefleet-rollout-marks"));
    private final ConcurrentLinkedQueue<Mark> marks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean markQueued = new AtomicBoolean();
    private final AtomicBoolean reconcileQueued = new AtomicBoolean();

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private volatile boolean stopping;

    void onStop(@Observes @Priority(50) ShutdownEvent event) {
        stopping = true;
        later.shutdownNow();
        for (ExecutorService e : List.of(worker, urgent, marker)) {
            e.shutdown();
        }
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
            urgent.awaitTermination(2, TimeUnit.SECONDS);
            marker.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Work decided inside a transaction, to run after it committed. */
    public interface After {
        void run();
    }

    public static void runAll(List<After> after) {
        after.forEach(After::run);
    }

    // ---------------------------------------------------------------- stepping (inside a transaction)

    static RolloutPolicy policyOf(DeploymentEntity dep) {
        if (dep.policy == null) {
            return RolloutPolicy.everyTargetAtOnce();
        }
        try {
            return JSON.readValue(dep.policy, RolloutPolicy.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("deployment " + dep.id + " has an unreadable policy: " + e.getMessage(), e);
        }
    }

    static String toJson(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static <T> T fromJson(String s, Class<T> type) {
        if (s == null) {
            return null;
        }
        try {
            return JSON.readValue(s, type);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** Target tally per wave, counted by the database. */
    Progress progress(String deploymentId) {
        Map<Integer, Tally> byWave = new HashMap<>();
        for (Object[] r : session.createSelectionQuery("select t.wave, t.state, count(t) from DeploymentTargetEntity t"
                        + " where t.deploymentId = :id group by t.wave, t.state", Object[].class)
                .setParameter("id", deploymentId).getResultList()) {
            byWave.merge((Integer) r[0], Tally.of((TargetState) r[1], false, (Long) r[2]), WaveDriver::plus);
        }
        for (Object[] r : session.createSelectionQuery("select t.wave, count(t) from DeploymentTargetEntity t"
                        + " where t.deploymentId = :id and t.state = :failed and t.reason = :sup group by t.wave", Object[].class)
                .setParameter("id", deploymentId).setParameter("failed", TargetState.FAILED)
                .setParameter("sup", RolloutService.SUPERSEDED).getResultList()) {
            long n = (Long) r[1];
            byWave.merge((Integer) r[0], new Tally(0, 0, 0, 0, -n, 0, 0, n), WaveDriver::plus);
        }
        return new Progress(byWave);
    }

    private static Tally plus(Tally a, Tally b) {
        return new Tally(a.pending() + b.pending(), a.inFlight() + b.inFlight(), a.committed() + b.committed(),
                a.rolledBack() + b.rolledBack(), a.failed() + b.failed(), a.timedOut() + b.timedOut(),
                a.cancelled() + b.cancelled(), a.superseded() + b.superseded());
    }

    /** Locks the deployment row; every change to a deployment's progress starts here. */
    DeploymentEntity lock(String deploymentId) {
        DeploymentEntity dep = deploymentId == null ? null
                : session.find(DeploymentEntity.class, deploymentId, LockModeType.PESSIMISTIC_WRITE);
        if (dep == null) {
            throw ApiException.notFound("deployment", deploymentId);
        }
        return dep;
    }

    /** Feeds one event to the machine for a locked deployment, persists its answer; returns the after-commit work. */
    List<After> step(DeploymentEntity dep, Event event, long now) {
        session.flush();
        RolloutPolicy policy = policyOf(dep);
        WaveMachine.Step st = WaveMachine.apply(dep.machineState(), policy, progress(dep.id), event, now);
        DeploymentStatus before = dep.status;
        dep.apply(st.state(), now);
        if (before != dep.status) {
            LOG.infof("Deployment %s: %s -> %s (wave %d of %d)", dep.id, before, dep.status, dep.waveCurrent, dep.waveCount);
        }
        return decide(dep, policy, st.decisions(), now);
    }

    List<After> decide(DeploymentEntity dep, RolloutPolicy policy, List<Decision> decisions, long now) {
        List<After> after = new ArrayList<>();
        String id = dep.id;
        for (Decision d : decisions) {
            if (d instanceof Decision.Refuse r) {
                throw new ApiException(ErrorCode.CONFLICT, "deployment " + id + ": " + r.reason());
            } else if (d instanceof Decision.DispatchWave w) {
                int started = session.createMutationQuery("update DeploymentTargetEntity t set t.dueAt = :due"
                                + " where t.deploymentId = :id and t.wave <= :wave and t.dueAt is null and t.state = :pending")
                        .setParameter("due", now + policy.targetTimeoutSeconds() * 1000).setParameter("id", id)
                        .setParameter("wave", w.wave()).setParameter("pending", TargetState.PENDING).executeUpdate();
                if (started > 0) {
                    LOG.infof("Deployment %s: wave %d of %d starts (%d target(s))", id, w.wave(), dep.waveCount, started);
                }
                after.add(() -> submit(worker, "dispatch " + id, () -> dispatch(id, null)));
            } else if (d instanceof Decision.AddTarget a) {
                after.addAll(addTarget(dep, policy, a, now));
            } else if (d instanceof Decision.EvaluateGates g) {
                after.add(() -> submit(worker, "gates " + id, () -> evaluateGates(id, g)));
            } else if (d instanceof Decision.Halt h) {
                halt(dep, h, now);
                after.add(() -> submit(urgent, "rollbacks " + id, () -> sendRollbacks(id, null)));
                after.add(this::requestReconcile);
            } else if (d instanceof Decision.ResendRollbacks) {
                after.add(() -> submit(urgent, "rollbacks " + id, () -> sendRollbacks(id, null)));
            }
        }
        if (dep.status.terminal()) {
            after.add(this::requestReconcile);
        }
        return after;
    }

    private List<After> addTarget(DeploymentEntity dep, RolloutPolicy policy, Decision.AddTarget a, long now) {
        var device = session.find(io.edgefleet.server.device.DeviceEntity.class, a.deviceId());
        if (device == null) {
            return List.of();
        }
        // The deployment row is locked here, and a deployment is committed with its targets, so this sees every
        // target: a device the join's look-up took for a newcomer (it read before the deployment committed its
        // targets) is a target already, and inserting it again would break UQ_DEPLOYMENT_TARGET.
        if (session.createSelectionQuery("select count(t) from DeploymentTargetEntity t where t.deploymentId = :d"
                        + " and t.deviceId = :dev", Long.class)
                .setParameter("d", dep.id).setParameter("dev", device.id).getSingleResult() > 0) {
            return List.of();
        }
        DeploymentTargetEntity t = new DeploymentTargetEntity();
        t.deploymentId = dep.id;
        t.deviceId = device.id;
        t.classId = device.classId;
        t.state = TargetState.PENDING;
        t.wave = a.wave();
        t.dueAt = a.dispatch() ? now + policy.targetTimeoutSeconds() * 1000 : null;
        t.detail = "joined the target after the deployment started";
        t.updatedAt = now;
        session.persist(t);
        LOG.infof("Deployment %s: device %s joined (wave %d)", dep.id, device.id, a.wave());
        if (!a.dispatch()) {
            return List.of();
        }
        String depId = dep.id;
        String devId = device.id;
        return List.of(() -> submit(worker, "dispatch " + depId + " to " + devId, () -> dispatch(depId, devId)));
    }

    /** Targets not yet running the model are cancelled, those running it are marked for a rollback command. */
    private void halt(DeploymentEntity dep, Decision.Halt h, long now) {
        dep.haltRule = h.rule();
        dep.haltDetail = h.detail().length() > 4000 ? h.detail().substring(0, 4000) : h.detail();
        if (dep.rollbackRequestedAt == null) {
            dep.rollbackRequestedAt = now;
            String reason = "deployment halted (" + h.rule() + ")";
            dep.rollbackReason = reason;
        }
        // Bulk statements: a halt of a thousand devices must not load a thousand entities before it commits.
        session.flush();
        List<String> rolledBack = session.createSelectionQuery("select t.deviceId from DeploymentTargetEntity t"
                        + " where t.deploymentId = :id and t.state in :s order by t.deviceId", String.class)
                .setParameter("id", dep.id).setParameter("s", List.of(TargetState.ACTIVATED, TargetState.COMMITTED))
                .getResultList();
        List<String> cancelled = session.createSelectionQuery("select t.deviceId from DeploymentTargetEntity t"
                        + " where t.deploymentId = :id and t.state in :s order by t.deviceId", String.class)
                .setParameter("id", dep.id).setParameter("s", List.of(TargetState.PENDING, TargetState.SENT,
                        TargetState.DOWNLOADING)).getResultList();
        // One command id per target's rollback, kept until acknowledged: a resend carries the same id, which the agent
        // runs at most once (a second ROLLBACK would swap the slots back to the halted model).
        session.createMutationQuery("update DeploymentTargetEntity t set t.rollbackDue = true, t.updatedAt = :now,"
                        + " t.rollbackCommandId = concat(:prefix, cast(t.id as String))"
                        + " where t.deploymentId = :id and t.state in :s and t.rollbackDue = false")
                .setParameter("now", now).setParameter("id", dep.id)
                .setParameter("prefix", "rb-" + java.util.UUID.randomUUID() + "-")
                .setParameter("s", List.of(TargetState.ACTIVATED, TargetState.COMMITTED)).executeUpdate();
        session.createMutationQuery("update DeploymentTargetEntity t set t.state = :cancelled, t.reason = :reason,"
                        + " t.detail = :detail, t.updatedAt = :now where t.deploymentId = :id and t.state in :s")
                .setParameter("cancelled", TargetState.CANCELLED).setParameter("reason", HALTED)
                .setParameter("detail", "deployment halted before this device activated it (" + h.rule() + ")")
                .setParameter("now", now).setParameter("id", dep.id)
                .setParameter("s", List.of(TargetState.PENDING, TargetState.SENT, TargetState.DOWNLOADING)).executeUpdate();
        Map<String, Object> devices = new LinkedHashMap<>();
        devices.put("rolledBack", rolledBack);
        devices.put("cancelled", cancelled);
        dep.haltDevices = toJson(devices);
        LOG.warnf("Deployment %s HALTED by %s: %s; rolling back %d device(s), %d target(s) cancelled", dep.id, h.rule(),
                h.detail(), rolledBack.size(), cancelled.size());
    }

    // ---------------------------------------------------------------- events from outside

    /** Runs {@code event} for one deployment in its own transaction, then the work it decided. */
    public void fire(String deploymentId, Event event) {
        List<After> after = QuarkusTransaction.requiringNew().call(() -> {
            DeploymentEntity dep = session.find(DeploymentEntity.class, deploymentId, LockModeType.PESSIMISTIC_WRITE);
            return dep == null ? List.<After>of() : step(dep, event, System.currentTimeMillis());
        });
        runAll(after);
    }

    @Scheduled(every = "${edgefleet.rollout.tick-interval:1s}", delayed = "2s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void tick() {
        if (stopping) {
            return; // the persistence unit closes during shutdown
        }
        List<String> active = QuarkusTransaction.requiringNew().call(() -> session.createSelectionQuery(
                        "select d.id from DeploymentEntity d where d.status in :s", String.class)
                .setParameter("s", List.of(DeploymentStatus.IN_PROGRESS, DeploymentStatus.PAUSED)).getResultList());
        for (String id : active) {
            try {
                List<After> after = QuarkusTransaction.requiringNew().call(() -> {
                    DeploymentEntity dep = session.find(DeploymentEntity.class, id, LockModeType.PESSIMISTIC_WRITE);
                    if (dep == null) {
                        return List.<After>of();
                    }
                    long now = System.currentTimeMillis();
                    if (dep.status == DeploymentStatus.IN_PROGRESS) {
                        expire(dep, now);
                    }
                    return step(dep, new Event.Tick(), now);
                });
                runAll(after);
            } catch (RuntimeException e) {
                LOG.errorf(e, "rollout tick of deployment %s failed", id);
            }
        }
    }

    /** Targets past their due time end TIMED_OUT: a device that never answers does not hold a wave forever. */
    private void expire(DeploymentEntity dep, long now) {
        int n = session.createMutationQuery("update DeploymentTargetEntity t set t.state = :timedOut, t.reason = :reason,"
                        + " t.detail = :detail, t.updatedAt = :now where t.deploymentId = :id and t.state in :open"
                        + " and t.dueAt is not null and t.dueAt < :now")
                .setParameter("timedOut", TargetState.TIMED_OUT).setParameter("reason", TIMED_OUT_REASON)
                .setParameter("detail", "no answer within the policy's targetTimeoutSeconds")
                .setParameter("now", now).setParameter("id", dep.id).setParameter("open", OPEN).executeUpdate();
        if (n > 0) {
            LOG.infof("Deployment %s: %d target(s) timed out", dep.id, n);
        }
    }

    void onBrokerConnected(@Observes BrokerConnected event) {
        submit(worker, "broker connected", () -> {
            // The broker may have lost retained messages (embedded broker restarted with the server,
            // external broker without persistence): republish what is needed, drop what is not.
            Set<ArtifactKey> needed = neededArtifacts();
            for (ArtifactKey k : needed) {
                publisher.publish(k.classId(), k.model(), true);
            }
            reconcileArtifacts(needed);
            recoverAll();
        });
    }

    /** Safety net: work whose sending failed beyond what the pipeline retries (e.g. a stop mid-retry). */
    @Scheduled(every = "30s", delayed = "30s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        if (gateway.isConnected()) {
            submit(worker, "sweep", this::recoverAll);
        }
    }

    /** Every deployment that may have work a crash lost: running, paused, or halted with rollbacks not acknowledged. */
    void recoverAll() {
        List<String> ids = QuarkusTransaction.requiringNew().call(() -> {
            Set<String> out = new LinkedHashSet<>(session.createSelectionQuery(
                            "select d.id from DeploymentEntity d where d.status in :s order by d.createdAt", String.class)
                    .setParameter("s", List.of(DeploymentStatus.IN_PROGRESS, DeploymentStatus.PAUSED)).getResultList());
            out.addAll(session.createSelectionQuery("select distinct t.deploymentId from DeploymentTargetEntity t"
                    + " where t.rollbackDue = true", String.class).getResultList());
            return new ArrayList<>(out);
        });
        for (String id : ids) {
            try {
                fire(id, new Event.Recovered());
            } catch (RuntimeException e) {
                LOG.errorf(e, "recovering deployment %s failed", id);
            }
        }
    }

    // ---------------------------------------------------------------- broker work

    private record Dispatch(long targetId, String deviceId, String classId, DeploymentEntity deployment, double classP95) {
    }

    /** Deploy commands to the PENDING targets of the running waves (one device when {@code deviceId} is set). */
    void dispatch(String deploymentId, String deviceId) {
        if (!gateway.isConnected()) {
            return;
        }
        List<Dispatch> work = QuarkusTransaction.requiringNew().call(() -> {
            DeploymentEntity d = session.find(DeploymentEntity.class, deploymentId);
            // A finished deployment still sends to the one device that joined it (the class's current model).
            boolean open = d != null && (d.status == DeploymentStatus.IN_PROGRESS || deviceId != null
                    && (d.status == DeploymentStatus.COMPLETED || d.status == DeploymentStatus.PARTIAL));
            if (!open || d.rollbackRequestedAt != null) {
                return List.<Dispatch>of();
            }
            var q = session.createSelectionQuery("from DeploymentTargetEntity t where t.deploymentId = :dep"
                            + " and t.state = :pending and t.wave <= :wave" + (deviceId != null ? " and t.deviceId = :dev" : "")
                            + " order by t.id", DeploymentTargetEntity.class)
                    .setParameter("dep", deploymentId).setParameter("pending", TargetState.PENDING)
                    .setParameter("wave", d.waveCurrent);
            if (deviceId != null) {
                q.setParameter("dev", deviceId);
            }
            Map<String, DeviceClassEntity> cls = new HashMap<>();
            List<Dispatch> out = new ArrayList<>();
            for (DeploymentTargetEntity t : q.getResultList()) {
                DeviceClassEntity c = cls.computeIfAbsent(t.classId, cid -> session.find(DeviceClassEntity.class, cid));
                out.add(new Dispatch(t.id, t.deviceId, t.classId, d, c == null ? 0 : c.sloP95LatencyMs));
            }
            return out;
        });
        send(work);
    }

    /** Re-sends deploy commands to a device that came online: its PENDING and SENT targets of running deployments. */
    void resendTo(String deviceId) {
        if (!gateway.isConnected()) {
            return;
        }
        List<Dispatch> work = QuarkusTransaction.requiringNew().call(() -> {
            List<Dispatch> out = new ArrayList<>();
            for (DeploymentTargetEntity t : session.createSelectionQuery("from DeploymentTargetEntity t where t.deviceId = :dev"
                            + " and t.state in :states and exists (select 1 from DeploymentEntity d where d.id = t.deploymentId"
                            + " and d.status = :running and d.rollbackRequestedAt is null and t.wave <= d.waveCurrent)"
                            + " order by t.id", DeploymentTargetEntity.class)
                    .setParameter("dev", deviceId).setParameter("states", List.of(TargetState.PENDING, TargetState.SENT))
                    .setParameter("running", DeploymentStatus.IN_PROGRESS).getResultList()) {
                DeploymentEntity d = session.find(DeploymentEntity.class, t.deploymentId);
                DeviceClassEntity c = session.find(DeviceClassEntity.class, t.classId);
                out.add(new Dispatch(t.id, t.deviceId, t.classId, d, c == null ? 0 : c.sloP95LatencyMs));
            }
            return out;
        });
        send(work);
    }

    /**
     * Publishes the class's artifact unless this pass already did; false when the broker is unavailable (the pass
     * stops and the next one retries).
     */
    private boolean publishOnce(Set<String> published, String classId, ModelRef model, String what) {
        if (!published.add(classId + "/" + model.sha256())) {
            return true;
        }
        try {
            publisher.publish(classId, model, false);
            return true;
        } catch (MqttGateway.BrokerUnavailableException e) {
            LOG.warnf("%s for class %s not published (will retry): %s", what, classId, e.getMessage());
            return false;
        }
    }

    private void send(List<Dispatch> work) {
        if (work.isEmpty()) {
            return;
        }
        Set<String> published = new HashSet<>();
        for (Dispatch w : work) {
            DeploymentEntity d = w.deployment();
            ModelRef model = new ModelRef(d.modelName, d.modelVersion, d.sha256);
            if (!publishOnce(published, w.classId(), model, "Artifact")) {
                return;
            }
            ArtifactRef fallback = null;
            if (d.fallbackSha256 != null) {
                ModelRef light = new ModelRef(d.modelName, d.fallbackVersion, d.fallbackSha256);
                if (!publishOnce(published, w.classId(), light, "Fallback")) {
                    return;
                }
                fallback = new ArtifactRef(w.classId(), light, d.fallbackSize, Topics.manifest(w.classId(), d.fallbackSha256));
            }
            HealthPolicy health = new HealthPolicy(
                    d.healthMaxP95LatencyMs != null ? d.healthMaxP95LatencyMs : w.classP95(),
                    d.healthMaxErrorRate, d.healthWindows, d.healthMinInferences);
            Command cmd = Command.deploy(d.id,
                    new ArtifactRef(w.classId(), model, d.size, Topics.manifest(w.classId(), d.sha256)), health, fallback);
            CompletableFuture<Void> f = commands.send("deploy:" + w.targetId(), w.deviceId(), cmd);
            if (f != null) {
                f.thenRun(() -> mark(new Mark(w.targetId(), cmd.id(), false)));
            }
        }
    }

    /**
     * Sends ROLLBACK commands to every target of the deployment still due one (to one device when set);
     * returns what it queued so an operator's request can wait for the broker's acknowledgements.
     */
    Map<String, CompletableFuture<Void>> sendRollbacks(String deploymentId, String onlyDevice) {
        record Due(long targetId, String deviceId, String commandId, String reason) {
        }
        List<Due> due = QuarkusTransaction.requiringNew().call(() -> {
            DeploymentEntity d = session.find(DeploymentEntity.class, deploymentId);
            if (d == null) {
                return List.<Due>of();
            }
            String reason = d.rollbackReason == null ? "deployment halted" : d.rollbackReason;
            var q = session.createSelectionQuery("select t.id, t.deviceId, t.rollbackCommandId from DeploymentTargetEntity t where"
                    + " t.deploymentId = :id and t.rollbackDue = true" + (onlyDevice != null ? " and t.deviceId = :dev" : "")
                    + " order by t.id", Object[].class).setParameter("id", deploymentId);
            if (onlyDevice != null) {
                q.setParameter("dev", onlyDevice);
            }
            return q.getResultList().stream().map(r -> new Due((Long) r[0], (String) r[1], (String) r[2], reason)).toList();
        });
        Map<String, CompletableFuture<Void>> out = new LinkedHashMap<>();
        for (Due t : due) {
            Command cmd = Command.rollback(t.commandId() != null ? t.commandId() : Protocol.newMessageId(), deploymentId,
                    t.reason());
            CompletableFuture<Void> f = commands.send("rollback:" + t.targetId(), t.deviceId(), cmd);
            if (f != null) {
                f.thenRun(() -> mark(new Mark(t.targetId(), cmd.id(), true)));
                out.put(t.deviceId() + " " + cmd.id(), f);
            }
        }
        if (!due.isEmpty()) {
            LOG.infof("Deployment %s: %d rollback command(s) queued", deploymentId, out.size());
        }
        return out;
    }

    private record Mark(long targetId, String commandId, boolean rollback) {
    }

    private void mark(Mark m) {
        marks.add(m);
        if (markQueued.compareAndSet(false, true)) {
            submit(marker, "record sent commands", this::flushMarks);
        }
    }

    private void flushMarks() {
        markQueued.set(false);
        List<Mark> batch = new ArrayList<>();
        for (Mark m; (m = marks.poll()) != null; ) {
            batch.add(m);
        }
        if (batch.isEmpty()) {
            return;
        }
        QuarkusTransaction.requiringNew().run(() -> {
            long now = System.currentTimeMillis();
            Map<Long, DeploymentTargetEntity> loaded = new HashMap<>();
            List<Long> ids = batch.stream().map(Mark::targetId).distinct().toList();
            for (int i = 0; i < ids.size(); i += 1000) {
                for (DeploymentTargetEntity t : session.createSelectionQuery("from DeploymentTargetEntity where id in :ids",
                        DeploymentTargetEntity.class).setParameter("ids", ids.subList(i, Math.min(ids.size(), i + 1000)))
                        .getResultList()) {
                    loaded.put(t.id, t);
                }
            }
            for (Mark m : batch) {
                DeploymentTargetEntity t = loaded.get(m.targetId());
                if (t == null) {
                    continue;
                }
                if (m.rollback()) {
                    t.rollbackDue = false;
                    t.rollbackCommandId = m.commandId();
                } else if (t.state == TargetState.PENDING || t.state == TargetState.SENT) {
                    t.state = TargetState.SENT;
                    t.commandId = m.commandId();
                    t.sentAt = now;
                    t.updatedAt = now;
                }
            }
        });
    }

    // ---------------------------------------------------------------- gates

    record GateInput(List<String> devices, List<String> others, String model, long version, long waveStartedAt,
                     WaveGates.ClassSlo slo, RolloutPolicy.Gates gates, long waitUntil) {
    }

    private final java.util.concurrent.ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "edgefleet-rollout-later"));

    private void evaluateGates(String deploymentId, Decision.EvaluateGates gate) {
        Decision.EvaluateGates g = gate;
        GateInput in = QuarkusTransaction.requiringNew().call(() -> {
            DeploymentEntity d = session.find(DeploymentEntity.class, deploymentId);
            if (d == null) {
                return null;
            }
            List<String> devices = session.createSelectionQuery("select t.deviceId from DeploymentTargetEntity t"
                            + " where t.deploymentId = :id and t.wave = :w and t.state = :c", String.class)
                    .setParameter("id", deploymentId).setParameter("w", gate.wave())
                    .setParameter("c", TargetState.COMMITTED).getResultList();
            List<String> others = session.createSelectionQuery("select t.deviceId from DeploymentTargetEntity t"
                            + " where t.deploymentId = :id and t.wave > :w", String.class)
                    .setParameter("id", deploymentId).setParameter("w", gate.wave()).setMaxResults(1000).getResultList();
            // Several classes: the strictest SLO of the wave's devices applies.
            Double p95 = null;
            Double energy = null;
            for (Object[] r : session.createSelectionQuery("select distinct c.sloP95LatencyMs, c.sloMaxEnergyMj from"
                            + " DeviceClassEntity c where c.id in (select t.classId from DeploymentTargetEntity t where"
                            + " t.deploymentId = :id and t.wave = :w)", Object[].class)
                    .setParameter("id", deploymentId).setParameter("w", gate.wave()).getResultList()) {
                double cp = ((Number) r[0]).doubleValue();
                p95 = p95 == null ? cp : Math.min(p95, cp);
                if (r[1] != null) {
                    double ce = ((Number) r[1]).doubleValue();
                    energy = energy == null ? ce : Math.min(energy, ce);
                }
            }
            long started = d.waveStartedAt == null ? d.createdAt : d.waveStartedAt;
            RolloutPolicy policy = policyOf(d);
            return new GateInput(devices, others, d.modelName, d.modelVersion, started, new WaveGates.ClassSlo(p95, energy),
                    policy.gates(), gate.fromMs() + (policy.soakSeconds() + policy.targetTimeoutSeconds()) * 1000);
        });
        if (in == null) {
            return;
        }
        long now = System.currentTimeMillis();
        WindowSummary after = telemetry.summarize(in.devices(), in.model(), in.version(), g.fromMs(), now);
        if (after.windows() < in.gates().minWindows() && now < in.waitUntil()) {
            // Telemetry of the soak has not arrived (yet): judging nothing would let the wave through unseen.
            // Keep soaking and look again; after targetTimeoutSeconds the gates are judged on what there is.
            LOG.infof("Deployment %s wave %d: %d telemetry window(s) of the new version, %d needed; gates wait",
                    deploymentId, g.wave(), after.windows(), in.gates().minWindows());
            try {
                later.schedule(() -> submit(worker, "gates " + deploymentId, () -> evaluateGates(deploymentId, gate)),
                        2, TimeUnit.SECONDS);
            } catch (RejectedExecutionException stopping) {
                LOG.debug("gate re-evaluation skipped: shutting down");
            }
            return;
        }
        g = new Decision.EvaluateGates(g.wave(), g.fromMs(), now);
        long span = Math.max(60_000, g.toMs() - g.fromMs());
        WindowSummary before = telemetry.summarize(in.devices(), null, null, in.waveStartedAt() - span, in.waveStartedAt());
        if (before.isEmpty() && !in.others().isEmpty()) {
            before = telemetry.summarize(in.others(), null, null, g.fromMs(), g.toMs());
        }
        List<WaveMachine.GateResult> results = WaveGates.judge(in.gates(), in.slo(), after, before);
        LOG.infof("Deployment %s wave %d gates: %s", deploymentId, g.wave(), results);
        Decision.EvaluateGates judged = g;
        List<After> next = QuarkusTransaction.requiringNew().call(() -> {
            DeploymentEntity dep = session.find(DeploymentEntity.class, deploymentId, LockModeType.PESSIMISTIC_WRITE);
            if (dep == null) {
                return List.<After>of();
            }
            Map<String, Object> view = new LinkedHashMap<>();
            view.put("wave", judged.wave());
            view.put("fromMs", judged.fromMs());
            view.put("toMs", judged.toMs());
            view.put("results", results);
            dep.gateResults = toJson(view);
            return step(dep, new Event.GatesEvaluated(judged.wave(), results), System.currentTimeMillis());
        });
        runAll(next);
    }

    // ---------------------------------------------------------------- retained artifacts

    record ArtifactKey(String classId, ModelRef model) {
    }

    /** Artifacts an unfinished deployment still has unfinished targets for, per class. */
    private Set<ArtifactKey> neededArtifacts() {
        return QuarkusTransaction.requiringNew().call(() -> {
            Set<ArtifactKey> out = new LinkedHashSet<>();
            List<Object[]> rows = session.createSelectionQuery(
                            "select distinct t.classId, d.modelName, d.modelVersion, d.sha256 from DeploymentTargetEntity t,"
                                    + " DeploymentEntity d where d.id = t.deploymentId and d.status in :running"
                                    + " and d.rollbackRequestedAt is null and t.state in :open", Object[].class)
                    .setParameter("running", List.of(DeploymentStatus.IN_PROGRESS, DeploymentStatus.PAUSED))
                    .setParameter("open", OPEN)
                    .getResultList();
            for (Object[] r : rows) {
                out.add(new ArtifactKey((String) r[0], new ModelRef((String) r[1], (Long) r[2], (String) r[3])));
            }
            // the light fallbacks those deployments ship travel with them
            for (Object[] r : session.createSelectionQuery(
                            "select distinct t.classId, d.modelName, d.fallbackVersion, d.fallbackSha256 from"
                                    + " DeploymentTargetEntity t, DeploymentEntity d where d.id = t.deploymentId"
                                    + " and d.fallbackSha256 is not null and d.status in :running"
                                    + " and d.rollbackRequestedAt is null and t.state in :open", Object[].class)
                    .setParameter("running", List.of(DeploymentStatus.IN_PROGRESS, DeploymentStatus.PAUSED))
                    .setParameter("open", OPEN)
                    .getResultList()) {
                out.add(new ArtifactKey((String) r[0], new ModelRef((String) r[1], (Long) r[2], (String) r[3])));
            }
            return out;
        });
    }

    /** Coalesces many requests (one per finished target) into one reconcile run. */
    void requestReconcile() {
        if (reconcileQueued.compareAndSet(false, true)) {
            submit(worker, "reconcile artifacts", () -> {
                reconcileQueued.set(false);
                reconcileArtifacts(neededArtifacts());
            });
        }
    }

    private void reconcileArtifacts(Set<ArtifactKey> needed) {
        if (!gateway.isConnected()) {
            return;
        }
        Set<String> keep = new HashSet<>();
        needed.forEach(k -> keep.add(k.classId() + "/" + k.model().sha256()));
        for (PublishedArtifactEntity p : publisher.published()) {
            if (!keep.contains(p.classId + "/" + p.sha256)) {
                publisher.clear(p.classId, p.sha256);
            }
        }
    }

    void submitWork(String what, Runnable task) {
        submit(worker, what, task);
    }

    void submitUrgent(String what, Runnable task) {
        submit(urgent, what, task);
    }

    private static void submit(ExecutorService executor, String what, Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.errorf(e, "rollout task '%s' failed", what);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debugf("rollout task '%s' skipped: shutting down", what);
        }
    }
}
