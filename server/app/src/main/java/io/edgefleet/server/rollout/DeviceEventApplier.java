package io.edgefleet.server.rollout;

import io.edgefleet.protocol.DeviceEvent;
import io.edgefleet.protocol.ReasonCode;
import io.edgefleet.server.device.DeviceEntity;
import io.edgefleet.server.device.DeviceEventEntity;
import io.edgefleet.server.rollout.WaveDriver.After;
import io.edgefleet.server.rollout.WaveMachine.Event;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * What devices tell the rollout: an event stored and applied to its deployment target through
 * {@link RolloutRules}, then the deployment's {@link WaveMachine} stepped in the same transaction; a device
 * that connects gets the commands it missed, and joins deployments whose target it matches.
 */
@ApplicationScoped
public class DeviceEventApplier {
    private static final Logger LOG = Logger.getLogger(DeviceEventApplier.class);

    @Inject
    Session session;

    @Inject
    WaveDriver driver;

    /** Records a device event and moves its deployment target. False when the device is unknown (event dropped). */
    public boolean onDeviceEvent(DeviceEvent e, long receivedAt) {
        record Outcome(boolean known, List<After> after) {
        }
        Outcome o = QuarkusTransaction.requiringNew().call(() -> {
            DeviceEntity device = session.find(DeviceEntity.class, e.deviceId());
            if (device == null) {
                return new Outcome(false, List.of());
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
                return new Outcome(true, List.of());
            }
            boolean exists = session.createSelectionQuery("select count(t) from DeploymentTargetEntity t where"
                            + " t.deploymentId = :dep and t.deviceId = :dev", Long.class)
                    .setParameter("dep", e.deploymentId()).setParameter("dev", e.deviceId()).getSingleResult() > 0;
            if (!exists) {
                return new Outcome(true, List.of());
            }
            // Events of one deployment are serialised on its row (locked before any target is touched, the same
            // order a rollback and the wave driver take), so the tally the machine reads sees every other target.
            DeploymentEntity dep = session.find(DeploymentEntity.class, e.deploymentId(), LockModeType.PESSIMISTIC_WRITE);
            DeploymentTargetEntity target = session.createSelectionQuery(
                            "from DeploymentTargetEntity where deploymentId = :dep and deviceId = :dev",
                            DeploymentTargetEntity.class)
                    .setParameter("dep", e.deploymentId()).setParameter("dev", e.deviceId())
                    .getSingleResult();
            session.refresh(target);
            if (ofAnotherModel(device, dep, e)) {
                // Several models per device: this event is about another model the device holds; it is stored
                // on the device, but it says nothing about this deployment's model.
                LOG.infof("Device %s: %s of model %s does not move the target of deployment %s (model %s)",
                        e.deviceId(), e.type(), e.model().model(), dep.id, dep.modelName);
                return new Outcome(true, List.of());
            }
            TargetState next = RolloutRules.next(target.state, e.type()).orElse(null);
            long now = System.currentTimeMillis();
            boolean activation = e.type() == DeviceEvent.Type.ACTIVATED || e.type() == DeviceEvent.Type.COMMITTED;
            if (next == null && activation && dep.rollbackRequestedAt != null
                    && (target.state == TargetState.FAILED || target.state == TargetState.CANCELLED)) {
                // Stopped (operator rollback, halt) before it activated, yet it activated (the command was already
                // on its way): it runs the rolled-back model now, so track it and send it back.
                target.state = TargetState.ACTIVATED;
                target.activated = true;
                if (!target.rollbackDue) {
                    target.rollbackCommandId = io.edgefleet.protocol.Protocol.newMessageId();
                }
                target.rollbackDue = true;
                target.detail = "activated after the deployment was stopped; rollback command sent";
                target.updatedAt = now;
                String id = dep.id;
                String dev = e.deviceId();
                LOG.infof("Device %s activated stopped deployment %s; sending it back", dev, id);
                return new Outcome(true, List.of(() -> driver.submitUrgent("late rollback of " + dev,
                        () -> driver.sendRollbacks(id, dev))));
            }
            if (next == null) {
                return new Outcome(true, List.of());
            }
            target.state = next;
            target.reason = e.reason() == null || e.reason() == ReasonCode.NONE ? null : e.reason().name();
            target.detail = e.detail();
            target.updatedAt = now;
            if (next == TargetState.ACTIVATED || next == TargetState.COMMITTED) {
                target.activated = true;
            }
            List<After> after = new ArrayList<>();
            if (dep.rollbackRequestedAt != null && next.rollbackApplies()) {
                // A device that activates a deployment already stopped is told to go back at once.
                if (!target.rollbackDue) {
                    target.rollbackCommandId = io.edgefleet.protocol.Protocol.newMessageId();
                }
                target.rollbackDue = true;
                String id = dep.id;
                String dev = e.deviceId();
                after.add(() -> driver.submitUrgent("late rollback of " + dev, () -> driver.sendRollbacks(id, dev)));
            }
            if (next == TargetState.ROLLED_BACK) {
                target.rollbackDue = false;
            }
            after.addAll(driver.step(dep, new Event.TargetsChanged(), now));
            if (next.terminal()) {
                after.add(driver::requestReconcile);
            }
            return new Outcome(true, after);
        });
        WaveDriver.runAll(o.after());
        return o.known();
    }

    /** A device came online: resend commands it may have missed, and let it join deployments it now matches. */
    public void deviceCameOnline(String deviceId) {
        driver.submitWork("resend to " + deviceId, () -> driver.resendTo(deviceId));
        List<String> joinable;
        try {
            joinable = QuarkusTransaction.requiringNew().call(() -> joinableDeployment(deviceId));
        } catch (RuntimeException e) {
            LOG.errorf(e, "cannot look up deployments for device %s", deviceId);
            return;
        }
        for (String depId : joinable) {
            driver.fire(depId, new Event.DeviceJoined(deviceId));
        }
    }

    /**
     * The newest class/tag deployment the device matches but is not a target of, unless a deployment created
     * after it already targets the device or the device already runs its model.
     */
    private List<String> joinableDeployment(String deviceId) {
        DeviceEntity device = session.find(DeviceEntity.class, deviceId);
        if (device == null || device.credentialHash == null) {
            return List.of();
        }
        Long newestOwn = session.createSelectionQuery("select max(d.createdAt) from DeploymentEntity d where exists ("
                        + "select 1 from DeploymentTargetEntity t where t.deploymentId = d.id and t.deviceId = :dev)", Long.class)
                .setParameter("dev", deviceId).getSingleResult();
        List<DeploymentEntity> candidates = session.createSelectionQuery("from DeploymentEntity d where (d.targetClassId = :c"
                        + " or d.targetClassId is null and d.targetTags is not null) and d.policy is not null and d.status in :s and d.createdAt > :after order by d.createdAt desc",
                        DeploymentEntity.class)
                .setParameter("c", device.classId)
                .setParameter("s", List.of(DeploymentStatus.IN_PROGRESS, DeploymentStatus.PAUSED, DeploymentStatus.COMPLETED,
                        DeploymentStatus.PARTIAL))
                .setParameter("after", newestOwn == null ? Long.MIN_VALUE : newestOwn)
                .setMaxResults(20).getResultList();
        for (DeploymentEntity d : candidates) {
            Set<String> tags = d.targetTags == null || d.targetTags.isBlank() ? Set.of()
                    : new LinkedHashSet<>(Arrays.asList(d.targetTags.split(",")));
            if (!device.tags.containsAll(tags)) {
                continue;
            }
            if (d.sha256.equals(device.activeSha256)
                    || device.models.values().stream().anyMatch(m -> d.sha256.equals(m.activeSha256))) {
                return List.of();
            }
            return List.of(d.id);
        }
        return List.of();
    }

    /**
     * Whether a device holding several models reports this event about one of its other models. A device with
     * one model (or an older agent) is never judged so: there, a rollback to a fallback of another name (a
     * model replaced by a differently named one) is this deployment's rollback.
     */
    static boolean ofAnotherModel(DeviceEntity device, DeploymentEntity dep, DeviceEvent e) {
        if (e.model() == null || device.models.size() < 2 || e.model().model().equals(dep.modelName)) {
            return false;
        }
        return device.models.containsKey(e.model().model()) && device.models.containsKey(dep.modelName);
    }

    private static String truncate(String s, int max) {
        return s.length() > max ? s.substring(0, max) : s;
    }
}
