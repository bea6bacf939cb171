package io.edgefleet.server.rollout;

import io.edgefleet.protocol.Command;
import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.HealthPolicy;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.protocol.Topics;
import io.edgefleet.server.api.ApiError;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.device.DeviceEntity;
import io.edgefleet.server.deviceclass.DeviceClassEntity;
import io.edgefleet.server.deviceclass.DeviceClassService;
import io.edgefleet.server.model.ModelService;
import io.edgefleet.server.model.ModelVersionEntity;
import io.edgefleet.server.mqtt.MqttGateway;
import io.edgefleet.server.rollout.DeploymentDtos.CreateDeploymentRequest;
import io.edgefleet.server.rollout.DeploymentDtos.DeploymentView;
import io.edgefleet.server.rollout.DeploymentDtos.DeviceRollbackResult;
import io.edgefleet.server.rollout.DeploymentDtos.RollbackResult;
import io.edgefleet.server.rollout.DeploymentDtos.SentCommand;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * The deployments' management API: create (targets, policy, wave plan), list, get, pause, resume, abort
 * and roll back. The rules live in {@link WaveMachine} and {@link RolloutRules}, device events are applied by
 * {@link DeviceEventApplier}, broker work and the machine's decisions are carried out by {@link WaveDriver}
 * and {@link CommandDispatcher}.
 */
@ApplicationScoped
public class RolloutService {
    private static final Logger LOG = Logger.getLogger(RolloutService.class);
    public static final String SUPERSEDED = "SUPERSEDED";
    private static final long ROLLBACK_ACK_TIMEOUT_MS = 30_000;

    @Inject
    Session session;

    @Inject
    DeviceClassService classes;

    @Inject
    ModelService models;

    @Inject
    MqttGateway gateway;

    @Inject
    WaveDriver driver;

    @Inject
    DeviceEventApplier events;

    // ---------------------------------------------------------------- operator API

    public DeploymentView create(CreateDeploymentRequest req) {
        record Created(DeploymentView view, List<WaveDriver.After> after) {
        }
        Created c = QuarkusTransaction.requiringNew().call(() -> {
            List<WaveDriver.After> after = new ArrayList<>();
            DeploymentEntity dep = createInTransaction(req, after);
            return new Created(view(dep, true), after);
        });
        WaveDriver.runAll(c.after());
        driver.requestReconcile();
        return c.view();
    }

    private static ApiException fieldError(ErrorCode code, String field, String message) {
        return new ApiException(code, field + ": " + message, List.of(new ApiError.FieldError(field, message)), null);
    }

    /**
     * The device p95 the planner measured for an artifact (its lineage metrics' {@code deviceP95Ms}), for one of
     * the target classes when it has a number for one, else any; null when no plan measured it.
     */
    private Double planP95(String sha256, java.util.Set<String> classIds) {
        Double any = null;
        for (io.edgefleet.server.planner.VariantLineageEntity l : session.createSelectionQuery(
                "from VariantLineageEntity where sha256 = :s order by createdAt desc",
                io.edgefleet.server.planner.VariantLineageEntity.class).setParameter("s", sha256).getResultList()) {
            Double p95 = FallbackRules.deviceP95(l.metrics);
            if (p95 != null && classIds.contains(l.deviceClassId)) {
                return p95;
            }
            if (p95 != null && any == null) {
                any = p95;
            }
        }
        return any;
    }

    private DeploymentEntity createInTransaction(CreateDeploymentRequest req, List<WaveDriver.After> after) {
        boolean byDevices = req.deviceIds() != null && !req.deviceIds().isEmpty();
        boolean byClass = req.classId() != null && !req.classId().isBlank();
        List<String> tags = req.tags() == null ? List.of() : req.tags().stream().map(String::trim).distinct().toList();
        boolean bySelector = byClass || !tags.isEmpty();
        if (bySelector == byDevices) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED,
                    "give exactly one of 'classId' (optionally with 'tags'), 'tags' and 'deviceIds'");
        }
        RolloutPolicy policy;
        try {
            policy = req.policy() == null ? RolloutPolicy.defaults() : req.policy().resolved();
        } catch (RolloutPolicy.InvalidPolicyException e) {
            throw fieldError(ErrorCode.VALIDATION_FAILED, e.field(), e.getMessage().substring(e.field().length() + 2));
        }
        ModelVersionEntity model = Topics.isId(req.model()) ? models.find(req.model(), req.version()) : null;
        if (model == null) {
            throw new ApiException(ErrorCode.UNKNOWN_MODEL,
                    "model '" + req.model() + "' version " + req.version() + " does not exist");
        }
        List<DeviceEntity> devices = byDevices ? listedDevices(req.deviceIds()) : selectedDevices(req.classId(), tags);
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
        List<Integer> waves;
        try {
            waves = policy.waveSizes(devices.size());
        } catch (RolloutPolicy.InvalidPolicyException e) {
            throw fieldError(ErrorCode.VALIDATION_FAILED, e.field(), e.getMessage().substring(e.field().length() + 2));
        }
        ModelVersionEntity light = req.fallback() == null ? null
                : FallbackRules.check(model, models.find(model.name, req.fallback().version()),
                        v -> models.find(model.name, v), sha -> planP95(sha, targetClasses.keySet()));
        long now = System.currentTimeMillis();
        DeploymentEntity dep = new DeploymentEntity();
        dep.id = UUID.randomUUID().toString();
        dep.modelName = model.name;
        dep.modelVersion = model.version;
        dep.sha256 = model.sha256;
        dep.size = model.size;
        dep.targetClassId = byClass ? req.classId() : null;
        dep.targetTags = tags.isEmpty() ? null : String.join(",", tags);
        if (light != null) {
            dep.fallbackVersion = light.version;
            dep.fallbackSha256 = light.sha256;
            dep.fallbackSize = light.size;
        }
        dep.policy = WaveDriver.toJson(policy);
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
        WaveMachine.Step start = WaveMachine.start(waves.size(), now);
        dep.apply(start.state(), now);
        session.persist(dep);

        List<String> supersededDeployments = supersede(devices.stream().map(d -> d.id).toList(), dep.id, dep.modelName, now);

        // Online devices first, so the canary is made of devices that can answer now.
        List<DeviceEntity> ordered = new ArrayList<>(devices);
        ordered.sort(Comparator.comparing((DeviceEntity d) -> !d.online).thenComparing(d -> d.id));
        int wave = 1;
        int inWave = 0;
        for (DeviceEntity d : ordered) {
            if (inWave == waves.get(wave - 1)) {
                wave++;
                inWave = 0;
            }
            inWave++;
            DeploymentTargetEntity t = new DeploymentTargetEntity();
            t.deploymentId = dep.id;
            t.deviceId = d.id;
            t.classId = d.classId;
            t.state = TargetState.PENDING;
            t.activated = false;
            t.wave = wave;
            t.updatedAt = now;
            session.persist(t);
        }
        session.flush();
        after.addAll(driver.decide(dep, policy, start.decisions(), now));
        for (String old : supersededDeployments) {
            after.addAll(driver.step(driver.lock(old), new WaveMachine.Event.TargetsChanged(), now));
        }
        LOG.infof("Deployment %s: %s:%d to %d device(s) in %d wave(s) %s", dep.id, dep.modelName, dep.modelVersion,
                devices.size(), waves.size(), waves);
        return dep;
    }

    private List<DeviceEntity> selectedDevices(String classId, List<String> tags) {
        if (classId != null && !classId.isBlank() && classes.find(classId) == null) {
            throw fieldError(ErrorCode.UNKNOWN_DEVICE_CLASS, "classId", "device class '" + classId + "' does not exist");
        }
        for (String tag : tags) {
            long n = session.createSelectionQuery("select count(d) from DeviceEntity d where :tag member of d.tags", Long.class)
                    .setParameter("tag", tag).getSingleResult();
            if (n == 0) {
                throw fieldError(ErrorCode.VALIDATION_FAILED, "tags", "no device carries the tag '" + tag + "'");
            }
        }
        boolean byClass = classId != null && !classId.isBlank();
        var q = session.createSelectionQuery("from DeviceEntity where credentialHash is not null"
                + (byClass ? " and classId = :c" : "") + " order by id", DeviceEntity.class);
        if (byClass) {
            q.setParameter("c", classId);
        }
        List<DeviceEntity> devices = q.getResultList();
        devices = devices.stream().filter(d -> d.tags.containsAll(tags)).toList();
        if (devices.isEmpty()) {
            throw new ApiException(ErrorCode.NO_TARGETS, (byClass ? "device class '" + classId + "'" : "the tags " + tags)
                    + (byClass && !tags.isEmpty() ? " with tags " + tags : "")
                    + " has no devices with active credentials to deploy to");
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

    /**
     * A device follows its newest deployment of each model: unfinished targets of older deployments of the same model
     * end as SUPERSEDED failures. Deployments of other models go on, since a device holds several models side by side.
     */
    private List<String> supersede(List<String> deviceIds, String newDeploymentId, String model, long now) {
        if (deviceIds.isEmpty()) {
            return List.of();
        }
        Set<String> affected = new LinkedHashSet<>();
        for (int i = 0; i < deviceIds.size(); i += 1000) {
            List<DeploymentTargetEntity> open = session.createSelectionQuery(
                            "from DeploymentTargetEntity where deviceId in :ids and state in :open and deploymentId <> :me"
                                    + " and deploymentId in (select d.id from DeploymentEntity d where d.modelName = :model)",
                            DeploymentTargetEntity.class)
                    .setParameter("ids", deviceIds.subList(i, Math.min(deviceIds.size(), i + 1000)))
                    .setParameter("me", newDeploymentId)
                    .setParameter("model", model)
                    .setParameter("open", List.of(TargetState.PENDING, TargetState.SENT, TargetState.DOWNLOADING,
                            TargetState.ACTIVATED))
                    .getResultList();
            for (DeploymentTargetEntity t : open) {
                t.state = TargetState.FAILED;
                t.reason = SUPERSEDED;
                t.detail = "superseded by deployment " + newDeploymentId;
                t.updatedAt = now;
                affected.add(t.deploymentId);
            }
        }
        session.flush();
        return new ArrayList<>(affected);
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
        return QuarkusTransaction.requiringNew().call(() -> view(require(id), true));
    }

    private DeploymentView view(DeploymentEntity dep, boolean withTargets) {
        List<DeploymentTargetEntity> targets = targets(dep.id);
        return DeploymentView.of(dep, targets, driver.progress(dep.id), WaveDriver.policyOf(dep));
    }

    public DeploymentView pause(String id) {
        return operatorEvent(id, new WaveMachine.Event.Pause());
    }

    public DeploymentView resume(String id) {
        return operatorEvent(id, new WaveMachine.Event.Resume());
    }

    /** Halts the deployment as its own rules would: devices that activated it go back, the rest are cancelled. */
    public DeploymentView abort(String id, String requestedReason) {
        String reason = requestedReason == null || requestedReason.isBlank() ? "operator request" : requestedReason.trim();
        return operatorEvent(id, new WaveMachine.Event.Abort(reason.length() > 1000 ? reason.substring(0, 1000) : reason));
    }

    private DeploymentView operatorEvent(String id, WaveMachine.Event event) {
        List<WaveDriver.After> after = QuarkusTransaction.requiringNew().call(() -> {
            require(id);
            DeploymentEntity dep = driver.lock(id);
            return driver.step(dep, event, System.currentTimeMillis());
        });
        // Commands (a halt's rollbacks) go out before the answer is built.
        WaveDriver.runAll(after);
        return get(id);
    }

    /**
     * Sends every device that activated the deployment back to its previous model and stops the rest; answers
     * once the broker acknowledged the commands (or after {@value #ROLLBACK_ACK_TIMEOUT_MS} ms, the rest still
     * being retried and recorded as due, so a restart sends them too).
     */
    public RollbackResult rollback(String deploymentId, String requestedReason) {
        String reason = requestedReason == null || requestedReason.isBlank() ? "operator request" : requestedReason.trim();
        requireBroker();
        List<String> cancelled = QuarkusTransaction.requiringNew().call(() -> {
            require(deploymentId);
            DeploymentEntity dep = driver.lock(deploymentId);
            long now = System.currentTimeMillis();
            if (dep.rollbackRequestedAt == null) {
                dep.rollbackRequestedAt = now;
                dep.rollbackReason = reason.length() > 1000 ? reason.substring(0, 1000) : reason;
            }
            List<String> stopped = new ArrayList<>();
            for (DeploymentTargetEntity t : targets(deploymentId)) {
                if (t.state.rollbackApplies()) {
                    if (!t.rollbackDue) {
                        t.rollbackCommandId = io.edgefleet.protocol.Protocol.newMessageId();
                    }
                    t.rollbackDue = true;
                } else if (!t.state.terminal()) {
                    t.state = TargetState.FAILED;
                    t.reason = ReasonCode.OPERATOR_REQUEST.name();
                    t.detail = "deployment rolled back before this device activated it: " + reason;
                    t.updatedAt = now;
                    stopped.add(t.deviceId);
                }
            }
            if (dep.endedAt == null) {
                dep.endedAt = now;
            }
            dep.status = DeploymentStatus.ROLLED_BACK;
            dep.updatedAt = now;
            return stopped;
        });
        Map<String, CompletableFuture<Void>> queued = driver.sendRollbacks(deploymentId, null);
        List<SentCommand> sent = new ArrayList<>();
        long deadline = System.currentTimeMillis() + ROLLBACK_ACK_TIMEOUT_MS;
        for (Map.Entry<String, CompletableFuture<Void>> e : queued.entrySet()) {
            String[] deviceAndCommand = e.getKey().split(" ", 2);
            try {
                e.getValue().get(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            } catch (Exception notYet) {
                LOG.warnf("Rollback command to %s not acknowledged yet (still retrying): %s", deviceAndCommand[0],
                        notYet.toString());
            }
            sent.add(new SentCommand(deviceAndCommand[0], deviceAndCommand[1]));
        }
        LOG.infof("Deployment %s rolled back (%s): %d rollback command(s) sent, %d target(s) stopped", deploymentId,
                reason, sent.size(), cancelled.size());
        driver.requestReconcile();
        return new RollbackResult(deploymentId, reason, sent, cancelled);
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

    // ---------------------------------------------------------------- device side (kept here for the ingest)

    /** Records a device event and moves its deployment target; false when the device is unknown. */
    public boolean onDeviceEvent(DeviceEvent e, long receivedAt) {
        return events.onDeviceEvent(e, receivedAt);
    }

    /** A device came online: resend what it missed, and let it join deployments it matches. */
    public void deviceCameOnline(String deviceId) {
        events.deviceCameOnline(deviceId);
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

    private static String truncate(String s, int max) {
        return s.length() > max ? s.substring(0, max) : s;
    }
}
