package io.edgefleet.server.alert;

import io.edgefleet.server.rollout.RolloutService;
import io.edgefleet.server.rollout.TargetState;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/** Runs a rule's action once, when its alert starts firing; returns what it did, for the alert's record. */
@ApplicationScoped
public class AlertActions {
    private static final Logger LOG = Logger.getLogger(AlertActions.class);
    private static final List<TargetState> LIVE = List.of(TargetState.PENDING, TargetState.SENT, TargetState.DOWNLOADING,
            TargetState.ACTIVATED, TargetState.COMMITTED);

    @Inject
    Session session;

    @Inject
    RolloutService rollouts;

    public String run(AlertRule rule, AlertEntity alert, Map<String, String> labels) {
        try {
            return switch (rule.action()) {
                case NONE -> "";
                case ROLLBACK -> rollback(rule, labels);
                case RECOMPRESS -> recompress(rule, alert, labels);
            };
        } catch (RuntimeException e) {
            LOG.warnf(e, "Action %s of alert %s failed", rule.action(), alert.fingerprint);
            return rule.action() + " failed: " + e.getMessage();
        }
    }

    /**
     * Rolls back the deployments that still run on the alert's scope: not yet rolled back, with a live
     * target in the alert's class (and device), of the alert's model and version when the labels carry them.
     */
    private String rollback(AlertRule rule, Map<String, String> labels) {
        String reason = "alert " + rule.name() + " (rule " + rule.id() + ") fired: " + scope(labels);
        String classId = labels.get(AlertLabels.CLASS);
        String model = labels.getOrDefault(AlertLabels.MODEL, rule.modelName());
        String version = labels.get(AlertLabels.VERSION);
        Long v = version != null ? Long.valueOf(version) : rule.modelVersion();
        String device = labels.get(AlertLabels.DEVICE);
        List<String> ids = QuarkusTransaction.requiringNew().call(() -> {
            var q = session.createSelectionQuery("select distinct d.id from DeploymentEntity d, DeploymentTargetEntity t"
                    + " where t.deploymentId = d.id and d.rollbackRequestedAt is null and t.state in :live"
                    + (classId == null ? "" : " and t.classId = :c") + (model == null ? "" : " and d.modelName = :m")
                    + (v == null ? "" : " and d.modelVersion = :v") + (device == null ? "" : " and t.deviceId = :dev")
                    + " order by d.id", String.class).setParameter("live", LIVE);
            if (classId != null) {
                q.setParameter("c", classId);
            }
            if (model != null) {
                q.setParameter("m", model);
            }
            if (v != null) {
                q.setParameter("v", v);
            }
            if (device != null) {
                q.setParameter("dev", device);
            }
            return q.getResultList();
        });
        if (device != null) {
            // One device: roll back that device only, not the whole deployment it belongs to.
            rollouts.rollbackDevice(device, reason);
            LOG.infof("Alert %s rolled back device %s", rule.name(), device);
            return "rolled back device " + device;
        }
        if (ids.isEmpty()) {
            return "ROLLBACK: no active deployment matches " + scope(labels);
        }
        List<String> done = new ArrayList<>();
        for (String id : ids) {
            rollouts.rollback(id, reason);
            done.add(id);
        }
        LOG.infof("Alert %s rolled back deployment(s) %s", rule.name(), done);
        return "rolled back deployment(s) " + String.join(", ", done);
    }

    private String recompress(AlertRule rule, AlertEntity alert, Map<String, String> labels) {
        return QuarkusTransaction.requiringNew().call(() -> {
            RecompressionRequestEntity e = new RecompressionRequestEntity();
            e.alertId = alert.id;
            e.ruleId = rule.id();
            e.classId = labels.get(AlertLabels.CLASS);
            e.modelName = labels.getOrDefault(AlertLabels.MODEL, rule.modelName());
            String version = labels.get(AlertLabels.VERSION);
            e.modelVersion = version != null ? Long.valueOf(version) : rule.modelVersion();
            e.reason = ("alert " + rule.name() + ": " + rule.metric() + " " + alert.value + " above " + alert.threshold
                    + " (" + scope(labels) + ")");
            e.status = RecompressionRequestEntity.OPEN;
            e.createdAt = System.currentTimeMillis();
            session.persist(e);
            session.flush();
            return "re-compression requested (request " + e.id + ")";
        });
    }

    private static String scope(Map<String, String> labels) {
        StringBuilder b = new StringBuilder();
        for (String k : List.of(AlertLabels.CLASS, AlertLabels.MODEL, AlertLabels.VERSION, AlertLabels.DEVICE)) {
            if (labels.containsKey(k)) {
                b.append(b.isEmpty() ? "" : " ").append(k).append('=').append(labels.get(k));
            }
        }
        return b.toString();
    }
}
