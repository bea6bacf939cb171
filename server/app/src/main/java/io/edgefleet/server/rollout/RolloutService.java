package io.edgefleet.server.rollout;

import io.edgefleet.protocol.ArtifactRef;
import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.ModelRef;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.device.DeviceEntity;
import io.edgefleet.server.device.DeviceEventEntity;
import io.edgefleet.server.deviceclass.DeviceClassEntity;
import io.edgefleet.server.deviceclass.DeviceClassService;
import io.edgefleet.server.model.ModelService;
import io.edgefleet.server.model.ModelVersionEntity;
import io.edgefleet.server.mqtt.BrokerConnected;
import io.edgefleet.server.mqtt.MqttGateway;
import io.edgefleet.server.rollout.DeploymentDtos.CreateDeploymentRequest;
import io.edgefleet.server.rollout.DeploymentDtos.DeploymentView;
import io.edgefleet.server.rollout.DeploymentDtos.DeviceRollbackResult;
import io.edgefleet.server.rollout.DeploymentDtos.RollbackResult;
import io.edgefleet.server.rollout.DeploymentDtos.SentCommand;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * Deployments: choose targets, publish the artifact to each target class, send deploy commands,
 * follow device events through {@link RolloutRules}, roll back on request, and clear retained
 * artifacts nobody needs any more. Broker work runs on one background thread, so requests and
 * the ingest pipeline never wait for a large artifact to be published.
 */
@ApplicationScoped
public class RolloutService {
    private static final Logger LOG = Logger.getLogger(RolloutService.class);
    public static final String SUPERSEDED = "SUPERSEDED";

    @Inject
    Session session;

    @Inject
    DeviceClassService classes;

    @Inject
    ModelService models;

    @Inject
    MqttGateway gateway;

    @Inject
    ArtifactPublisher publisher;

    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "edgefleet-rollout");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean reconcileQueued = new AtomicBoolean();

    void onStop(@Observes @Priority(50) ShutdownEvent event) {
        worker.shutdown();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- operator API

    public DeploymentView create(CreateDeploymentRequest req) {
        DeploymentView view = QuarkusTransaction.requiringNew().call(() -> createInTransaction(req));
        submit("dispatch " + view.id(), () -> dispatchPending(view.id()));
        requestReconcile();
        return view;
    }

    private DeploymentView createInTransaction(CreateDeploymentRequest req) {
        boolean byClass = req.classId() != null && !req.classId().isBlank();
        boolean byDevices = req.deviceIds() != null && !req.deviceIds().isEmpty();
        if (byClass == byDevices) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, "give exactly one of 'classId' and 'deviceIds'");
        }
        ModelVersionEntity model = Topics.isId(req.model()) ? models.find(req.model(), req.version()) : null;
        if (model == null) {
            throw new ApiException(ErrorCode.UNKNOWN_MODEL,
                    "model '" + req.model() + "' version " + req.version() + " does not exist");
        }
        List<DeviceEntity> devices = byClass ? devicesOfClass(req.classId()) : listedDevices(req.deviceIds());
        Map<String, DeviceClassEntity> targetClasses = new LinkedHashMap<>();
        for (DeviceEntity d : devices) {
            targetClasses.computeIfAbsent(d.classId, classes::require);
        }
        for (DeviceClassEntity c : targetClasses.values()) {
            if (model.size > c.sloMaxModelBytes) {
                throw new ApiException(ErrorCode.MODEL_EXCEEDS_CLASS_LIMIT, "model " + model.name + ":" + model.version
                        + " is " + model.size + " bytes but device class '" + c.id + "' allows at most "
                        + c.sloMaxModelBytes + " (slo.maxModelBytes)");
            }
        }
        long now = System.currentTimeMillis();
        DeploymentEntity dep = new DeploymentEntity();
        dep.id = UUID.randomUUID().toString();
        dep.modelName = model.name;
        dep.modelVersion = model.version;
        dep.sha256 = model.sha256;
        dep.size = model.size;
        dep.targetClassId = byClass ? req.classId() : null;
        dep.status = DeploymentStatus.IN_PROGRESS;
        HealthPolicy defaults = HealthPolicy.defaults();
        var h = req.health();
        dep.healthMaxP95LatencyMs = h != null && h.maxP95LatencyMs() != null ? h.maxP95LatencyMs()
                : targetClasses.size() == 1 ? targetClasses.values().iterator().next().sloP95LatencyMs : null;
        dep.healthMaxErrorRate = h != null && h.maxErrorRate() != null ? h.maxErrorRate() : defaults.maxErrorRate();
        dep.healthWindows = h != null && h.windows() != null ? h.windows() : defaults.windows();
        dep.healthMinInferences = h != null && h.minInferences() != null ? h.minInferences() : defaults.minInferences();
        dep.createdAt = now;
        dep.updatedAt = now;
        session.persist(dep);

        supersede(devices.stream().map(d -> d.id).toList(), dep.id, now);

        List<DeploymentTargetEntity> targets = new ArrayList<>();
        for (DeviceEntity d : devices) {
            DeploymentTargetEntity t = new DeploymentTargetEntity();
            t.deploymentId = dep.id;
            t.deviceId = d.id;
            t.classId = d.classId;
            t.state = TargetState.PENDING;
            t.activated = false;
            t.updatedAt = now;
            session.persist(t);
            targets.add(t);
        }
        LOG.infof("Deployment %s: %s:%d to %d device(s)", dep.id, dep.modelName, dep.modelVersion, targets.size());
        return DeploymentView.of(dep, targets);
    }

    private List<DeviceEntity> devicesOfClass(String classId) {
        if (classes.find(classId) == null) {
            throw new ApiException(ErrorCode.UNKNOWN_DEVICE_CLASS, "device class '" + classId + "' does not exist");
        }
        List<DeviceEntity> devices = session.createSelectionQuery(
                        "from DeviceEntity where classId = :c and credentialHash is not null order by id", DeviceEntity.class)
                .setParameter("c", classId).getResultList();
        if (devices.isEmpty()) {
            throw new ApiException(ErrorCode.NO_TARGETS,
                    "device class '" + classId + "' has no devices with active credentials to deploy to");
        }
        return devices;
    }

    private List<DeviceEntity> listedDevices(List<String> ids) {
        List<DeviceEntity> out = new ArrayList<>();
        for (String id : new LinkedHashSet<>(ids)) {
            DeviceEntity d = Topics.isId(id) ? session.find(DeviceEntity.class, id) : null;
            if (d == null) {
                throw new ApiException(ErrorCode.UNKNOWN_DEVICE, "device '" + id + "' does not exist");
            }
            if (d.credentialHash == null) {
                throw new ApiException(ErrorCode.DEVICE_REVOKED,
                        "device '" + id + "' has revoked credentials and cannot receive deployments");
            }
            out.add(d);
        }
        return out;
    }

    /** A device follows its newest deployment: unfinished targets of older ones end as SUPERSEDED failures. */
    private void supersede(List<String> deviceIds, String newDeploymentId, long now) {
        if (deviceIds.isEmpty()) {
            return;
        }
        List<DeploymentTargetEntity> open = session.createSelectionQuery(
                        "from DeploymentTargetEntity where deviceId in :ids and state in :open", DeploymentTargetEntity.class)
                .setParameter("ids", deviceIds)
                .setParameter("open", List.of(TargetState.PENDING, TargetState.SENT, TargetState.DOWNLOADING,
                        TargetState.ACTIVATED))
                .getResultList();
        Set<String> affected = new HashSet<>();
        for (DeploymentTargetEntity t : open) {
            t.state = TargetState.FAILED;
            t.reason = SUPERSEDED;
            t.detail = "superseded by deployment " + newDeploymentId;
            t.updatedAt = now;
            affected.add(t.deploymentId);
        }
        session.flush();
        for (String id : affected) {
            refreshStatus(session.find(DeploymentEntity.class, id), now);
        }
    }

    public List<DeploymentView> list() {
        return QuarkusTransaction.requiringNew().call(() -> {
            List<DeploymentEntity> deps = session.createSelectionQuery(
                    "from DeploymentEntity order by createdAt desc", DeploymentEntity.class).getResultList();
            Map<String, Map<TargetState, Long>> counts = new HashMap<>();
            for (Object[] row : session.createSelectionQuery("select t.deploymentId, t.state, count(t) from"
                    + " DeploymentTargetEntity t group by t.deploymentId, t.state", Object[].class).getResultList()) {
                counts.computeIfAbsent((String) row[0], k -> new EnumMap<>(TargetState.class))
                        .put((TargetState) row[1], (Long) row[2]);
            }
            return deps.stream().map(d -> DeploymentView.of(d, counts.getOrDefault(d.id, Map.of()))).toList();
        });
    }

    public DeploymentView get(String id) {
        return QuarkusTransaction.requiringNew().call(() -> DeploymentView.of(require(id), targets(id)));
    }

    public RollbackResult rollback(String deploymentId, String requestedReason) {
        String reason = requestedReason == null || requestedReason.isBlank() ? "operator request" : requestedReason.trim();
        requireBroker();
        record Plan(List<String> send, List<String> cancelled) {
        }
        Plan plan = QuarkusTransaction.requiringNew().call(() -> {
            DeploymentEntity dep = require(deploymentId);
            // Same lock order as device events: the deployment row first, then its targets.
            session.lock(dep, LockModeType.PESSIMISTIC_WRITE);
            long now = System.currentTimeMillis();
            if (dep.rollbackRequestedAt == null) {
                dep.rollbackRequestedAt = now;
                dep.rollbackReason = reason.length() > 1000 ? reason.substring(0, 1000) : reason;
            }
            List<String> send = new ArrayList<>();
            List<String> cancelled = new ArrayList<>();
            for (DeploymentTargetEntity t : targets(deploymentId)) {
                if (t.state.rollbackApplies()) {
                    send.add(t.deviceId);
                } else if (!t.state.terminal()) {
                    t.state = TargetState.FAILED;
                    t.reason = ReasonCode.OPERATOR_REQUEST.name();
                    t.detail = "deployment rolled back before this device activated it: " + reason;
                    t.updatedAt = now;
                    cancelled.add(t.deviceId);
                }
            }
            dep.status = DeploymentStatus.ROLLED_BACK;
            dep.updatedAt = now;
            return new Plan(send, cancelled);
        });
        List<SentCommand> sent = new ArrayList<>();
        for (String deviceId : plan.send()) {
            Command cmd = Command.rollback(deploymentId, reason);
            gateway.publishCommand(deviceId, cmd);
            sent.add(new SentCommand(deviceId, cmd.id()));
        }
        LOG.infof("Deployment %s rolled back (%s): %d rollback command(s) sent, %d target(s) stopped", deploymentId,
                reason, sent.size(), plan.cancelled().size());
        requestReconcile();
        return new RollbackResult(deploymentId, reason, sent, plan.cancelled());
    }

    public DeviceRollbackResult rollbackDevice(String deviceId, String requestedReason) {
        String reason = requestedReason == null || requestedReason.isBlank() ? "operator request" : requestedReason.trim();
        String deploymentId = QuarkusTransaction.requiringNew().call(() -> {
            if (!Topics.isId(deviceId) || session.find(DeviceEntity.class, deviceId) == null) {
                throw ApiException.notFound("device", deviceId);
            }
            return session.createSelectionQuery("from DeploymentTargetEntity where deviceId = :d and state in :s"
                            + " order by updatedAt desc, id desc", DeploymentTargetEntity.class)
                    .setParameter("d", deviceId)
                    .setParameter("s", List.of(TargetState.ACTIVATED, TargetState.COMMITTED))
                    .setMaxResults(1).getResultStream().map(t -> t.deploymentId).findFirst().orElse(null);
        });
        requireBroker();
        Command cmd = Command.rollback(deploymentId, reason);
        gateway.publishCommand(deviceId, cmd);
        LOG.infof("Rollback command %s sent to device %s (%s)", cmd.id(), deviceId, reason);
        return new DeviceRollbackResult(deviceId, deploymentId, cmd.id(), reason);
    }

    private void requireBroker() {
        if (!gateway.isConnected()) {
            throw new ApiException(ErrorCode.BROKER_UNAVAILABLE,
                    "the server is not connected to the MQTT broker; nothing was sent, try again shortly");
        }
    }

    // ---------------------------------------------------------------- device side

    /**
     * Records a device event and moves its deployment target. Returns false when the device is
     * unknown (the event is then dropped).
     */
    public boolean onDeviceEvent(DeviceEvent e, long receivedAt) {
        record Outcome(boolean known, boolean sendRollback, String deploymentId, String rollbackReason,
                       boolean targetFinished) {
        }
        Outcome o = QuarkusTransaction.requiringNew().call(() -> {
            DeviceEntity device = session.find(DeviceEntity.class, e.deviceId());
            if (device == null) {
                return new Outcome(false, false, null, null, false);
            }
            DeviceEventEntity row = new DeviceEventEntity();
            row.deviceId = e.deviceId();
            row.messageId = e.id();
            row.type = e.type().name();
            row.deploymentId = e.deploymentId() == null ? null : truncate(e.deploymentId(), 64);
            if (e.model() != null) {
                row.modelName = truncate(e.model().model(), 64);
                row.modelVersion = e.model().version();
                row.modelSha256 = e.model().sha256();
            }
            row.reason = (e.reason() == null ? ReasonCode.NONE : e.reason()).name();
            row.detail = e.detail();
            row.progress = e.progress();
            row.ts = e.ts();
            row.receivedAt = receivedAt;
            session.persist(row);
            device.lastSeen = device.lastSeen == null ? receivedAt : Math.max(device.lastSeen, receivedAt);

            if (e.deploymentId() == null) {
                return new Outcome(true, false, null, null, false);
            }
            DeploymentTargetEntity target = session.createSelectionQuery(
                            "from DeploymentTargetEntity where deploymentId = :dep and deviceId = :dev",
                            DeploymentTargetEntity.class)
                    .setParameter("dep", e.deploymentId()).setParameter("dev", e.deviceId())
                    .getResultStream().findFirst().orElse(null);
            if (target == null) {
                return new Outcome(true, false, null, null, false);
            }
            // Events of one deployment are serialised on its row (locked before any target is touched, the
            // same order a rollback takes), so the status recount below sees every other target's committed
            // state: two last targets finishing at once must not each miss the other.
            DeploymentEntity dep = session.find(DeploymentEntity.class, e.deploymentId(), LockModeType.PESSIMISTIC_WRITE);
            session.refresh(target);
            TargetState next = RolloutRules.next(target.state, e.type()).orElse(null);
            long now = System.currentTimeMillis();
            boolean activation = e.type() == DeviceEvent.Type.ACTIVATED || e.type() == DeviceEvent.Type.COMMITTED;
            DeploymentEntity rolledBack = activation ? dep : null;
            if (next == null && rolledBack != null && rolledBack.rollbackRequestedAt != null
                    && target.state == TargetState.FAILED) {
                // Stopped by the operator's rollback before it activated, yet it activated (the command was
                // already on its way): it runs the rolled-back model now, so track it and send it back.
                target.state = TargetState.ACTIVATED;
                target.activated = true;
                target.detail = "activated after the deployment was rolled back; rollback command sent";
                target.updatedAt = now;
                return new Outcome(true, true, rolledBack.id, rolledBack.rollbackReason, false);
            }
            if (next == null) {
                return new Outcome(true, false, null, null, false);
            }
            target.state = next;
            target.reason = e.reason() == null || e.reason() == ReasonCode.NONE ? null : e.reason().name();
            target.detail = e.detail();
            target.updatedAt = now;
            if (next == TargetState.ACTIVATED || next == TargetState.COMMITTED) {
                target.activated = true;
            }
            session.flush();
            refreshStatus(dep, now);
            // A device that activates a deployment the operator already rolled back is told to go back at once.
            boolean rollbackNow = dep.rollbackRequestedAt != null && next.rollbackApplies();
            return new Outcome(true, rollbackNow, dep.id, dep.rollbackReason, next.terminal());
        });
        if (o.sendRollback()) {
            submit("late rollback of " + e.deviceId(), () -> {
                gateway.publishCommand(e.deviceId(), Command.rollback(o.deploymentId(), o.rollbackReason()));
                LOG.infof("Device %s activated rolled-back deployment %s; rollback command sent", e.deviceId(),
                        o.deploymentId());
            });
        }
        if (o.targetFinished()) {
            requestReconcile();
        }
        return o.known();
    }

    /** A device came online: resend deploy commands it may have missed. */
    public void deviceCameOnline(String deviceId) {
        submit("resend to " + deviceId, () -> dispatchWhere(
                "from DeploymentTargetEntity t where t.deviceId = :dev and t.state in :states and exists ("
                        + "select 1 from DeploymentEntity d where d.id = t.deploymentId and d.status = :inProgress"
                        + " and d.rollbackRequestedAt is null) order by t.id",
                Map.of("dev", deviceId, "states", List.of(TargetState.PENDING, TargetState.SENT))));
    }

    void onBrokerConnected(@Observes BrokerConnected event) {
        submit("broker connected", () -> {
            // The broker may have lost retained messages (embedded broker restarted with the server,
            // external broker without persistence): republish what is needed, drop what is not.
            Set<ArtifactKey> needed = neededArtifacts();
            for (ArtifactKey k : needed) {
                publisher.publish(k.classId(), k.model(), true);
            }
            reconcileArtifacts(needed);
            dispatchAllPending();
        });
    }

    /** Retries deploy commands whose first send failed (broker was down). */
    @Scheduled(every = "30s", delayed = "30s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void retryPending() {
        if (gateway.isConnected()) {
            submit("retry pending", this::dispatchAllPending);
        }
    }

    // ---------------------------------------------------------------- broker work (rollout thread)

    private void dispatchPending(String deploymentId) {
        dispatchWhere("from DeploymentTargetEntity t where t.deploymentId = :dep and t.state = :pending and exists ("
                        + "select 1 from DeploymentEntity d where d.id = t.deploymentId and d.status = :inProgress"
                        + " and d.rollbackRequestedAt is null) order by t.id",
                Map.of("dep", deploymentId, "pending", TargetState.PENDING));
    }

    private void dispatchAllPending() {
        dispatchWhere("from DeploymentTargetEntity t where t.state = :pending and exists ("
                        + "select 1 from DeploymentEntity d where d.id = t.deploymentId and d.status = :inProgress"
                        + " and d.rollbackRequestedAt is null) order by t.id",
                Map.of("pending", TargetState.PENDING));
    }

    private record Dispatch(long targetId, String deviceId, String classId, DeploymentEntity deployment,
                            double classP95) {
    }

    /** Publishes the artifact to each target class, then a deploy command to each target; marks them SENT. */
    private void dispatchWhere(String query, Map<String, Object> params) {
        if (!gateway.isConnected()) {
            return;
        }
        List<Dispatch> work = QuarkusTransaction.requiringNew().call(() -> {
            var q = session.createSelectionQuery(query, DeploymentTargetEntity.class);
            params.forEach(q::setParameter);
            if (query.contains(":inProgress")) {
                q.setParameter("inProgress", DeploymentStatus.IN_PROGRESS);
            }
            List<Dispatch> out = new ArrayList<>();
            Map<String, DeploymentEntity> deps = new HashMap<>();
            Map<String, DeviceClassEntity> cls = new HashMap<>();
            for (DeploymentTargetEntity t : q.getResultList()) {
                DeploymentEntity d = deps.computeIfAbsent(t.deploymentId, id -> session.find(DeploymentEntity.class, id));
                DeviceClassEntity c = cls.computeIfAbsent(t.classId, id -> session.find(DeviceClassEntity.class, id));
                out.add(new Dispatch(t.id, t.deviceId, t.classId, d, c == null ? 0 : c.sloP95LatencyMs));
            }
            return out;
        });
        if (work.isEmpty()) {
            return;
        }
        Set<String> published = new HashSet<>();
        List<Object[]> sent = new ArrayList<>();
        try {
            for (Dispatch w : work) {
                DeploymentEntity d = w.deployment();
                ModelRef model = new ModelRef(d.modelName, d.modelVersion, d.sha256);
                if (published.add(w.classId() + "/" + d.sha256)) {
                    publisher.publish(w.classId(), model, false);
                }
                HealthPolicy health = new HealthPolicy(
                        d.healthMaxP95LatencyMs != null ? d.healthMaxP95LatencyMs : w.classP95(),
                        d.healthMaxErrorRate, d.healthWindows, d.healthMinInferences);
                Command cmd = Command.deploy(d.id,
                        new ArtifactRef(w.classId(), model, d.size, Topics.manifest(w.classId(), d.sha256)), health);
                gateway.publishCommand(w.deviceId(), cmd);
                sent.add(new Object[] {w.targetId(), cmd.id()});
            }
        } catch (MqttGateway.BrokerUnavailableException e) {
            LOG.warnf("Deploy commands not sent (will retry): %s", e.getMessage());
        } finally {
            markSent(sent);
        }
    }

    private void markSent(List<Object[]> sent) {
        if (sent.isEmpty()) {
            return;
        }
        QuarkusTransaction.requiringNew().run(() -> {
            long now = System.currentTimeMillis();
            for (Object[] s : sent) {
                DeploymentTargetEntity t = session.find(DeploymentTargetEntity.class, (Long) s[0]);
                if (t != null && (t.state == TargetState.PENDING || t.state == TargetState.SENT)) {
                    t.state = TargetState.SENT;
                    t.commandId = (String) s[1];
                    t.sentAt = now;
                    t.updatedAt = now;
                }
            }
        });
    }

    private record ArtifactKey(String classId, ModelRef model) {
    }

    /** Artifacts an unfinished deployment still has unfinished targets for, per class. */
    private Set<ArtifactKey> neededArtifacts() {
        return QuarkusTransaction.requiringNew().call(() -> {
            Set<ArtifactKey> out = new LinkedHashSet<>();
            List<Object[]> rows = session.createSelectionQuery(
                            "select distinct t.classId, d.modelName, d.modelVersion, d.sha256 from DeploymentTargetEntity t,"
                                    + " DeploymentEntity d where d.id = t.deploymentId and d.status = :inProgress"
                                    + " and d.rollbackRequestedAt is null and t.state in :open", Object[].class)
                    .setParameter("inProgress", DeploymentStatus.IN_PROGRESS)
                    .setParameter("open", List.of(TargetState.PENDING, TargetState.SENT, TargetState.DOWNLOADING,
                            TargetState.ACTIVATED))
                    .getResultList();
            for (Object[] r : rows) {
                out.add(new ArtifactKey((String) r[0], new ModelRef((String) r[1], (Long) r[2], (String) r[3])));
            }
            return out;
        });
    }

    /** Coalesces many requests (one per finished target) into one reconcile run. */
    private void requestReconcile() {
        if (reconcileQueued.compareAndSet(false, true)) {
            submit("reconcile artifacts", () -> {
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

    private void submit(String what, Runnable task) {
        try {
            worker.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.errorf(e, "rollout task '%s' failed", what);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.debugf("rollout task '%s' skipped: shutting down", what);
        }
    }

    // ---------------------------------------------------------------- helpers (inside a transaction)

    private DeploymentEntity require(String id) {
        DeploymentEntity d = id == null ? null : session.find(DeploymentEntity.class, id);
        if (d == null) {
            throw ApiException.notFound("deployment", id);
        }
        return d;
    }

    private List<DeploymentTargetEntity> targets(String deploymentId) {
        List<DeploymentTargetEntity> list = new ArrayList<>(session.createSelectionQuery(
                        "from DeploymentTargetEntity where deploymentId = :id", DeploymentTargetEntity.class)
                .setParameter("id", deploymentId).getResultList());
        list.sort(Comparator.comparing(t -> t.deviceId));
        return list;
    }

    private void refreshStatus(DeploymentEntity dep, long now) {
        // Counted by the database: an event must not cost a load of every target of a large rollout.
        Map<TargetState, Long> counts = new EnumMap<>(TargetState.class);
        for (Object[] row : session.createSelectionQuery("select t.state, count(t) from DeploymentTargetEntity t"
                + " where t.deploymentId = :id group by t.state", Object[].class)
                .setParameter("id", dep.id).getResultList()) {
            counts.put((TargetState) row[0], (Long) row[1]);
        }
        DeploymentStatus status = RolloutRules.status(counts, dep.rollbackRequestedAt != null);
        if (status != dep.status) {
            LOG.infof("Deployment %s: %s -> %s", dep.id, dep.status, status);
            dep.status = status;
            dep.updatedAt = now;
        }
    }

    private static String truncate(String s, int max) {
        return s.length() > max ? s.substring(0, max) : s;
    }
}
