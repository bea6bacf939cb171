package io.edgefleet.server.alert;

import io.edgefleet.server.alert.RuleObservations.ClassSlo;
import io.edgefleet.server.alert.RuleObservations.Count;
import io.edgefleet.server.rollout.TargetState;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hibernate.Session;

/** The non-telemetry figures rules read, grouped in SQL at a rule's scope. */
@ApplicationScoped
public class AlertQueries {

    @Inject
    Session session;

    @Transactional
    public Map<String, ClassSlo> classSlos() {
        Map<String, ClassSlo> m = new HashMap<>();
        for (Object[] r : session.createSelectionQuery(
                "select c.id, c.sloP95LatencyMs, c.sloMaxEnergyMj from DeviceClassEntity c", Object[].class).getResultList()) {
            m.put((String) r[0], new ClassSlo((Double) r[1], (Double) r[2]));
        }
        return m;
    }

    /** Offline devices / devices per group; model and version are what the device runs now. */
    @Transactional
    public List<Count> offline(AlertScope scope) {
        String keys = keys(scope, "d.classId", "d.activeModel", "d.activeVersion", "d.id");
        return counts(session.createSelectionQuery("select " + keys
                + ", sum(case when d.online then 0 else 1 end), count(d) from DeviceEntity d group by "
                + groupBy(scope, "d.classId", "d.activeModel", "d.activeVersion", "d.id"), Object[].class).getResultList());
    }

    /** Rolled-back targets / targets that finished since {@code fromMs}, per group of the deployment's model version. */
    @Transactional
    public List<Count> rollbacks(AlertScope scope, long fromMs) {
        String keys = keys(scope, "t.classId", "dep.modelName", "dep.modelVersion", "t.deviceId");
        return counts(session.createSelectionQuery("select " + keys
                        + ", sum(case when t.state = :rb then 1 else 0 end), count(t)"
                        + " from DeploymentTargetEntity t join DeploymentEntity dep on dep.id = t.deploymentId"
                        + " where t.updatedAt > :from and t.state in :finished group by "
                        + groupBy(scope, "t.classId", "dep.modelName", "dep.modelVersion", "t.deviceId"), Object[].class)
                .setParameter("rb", TargetState.ROLLED_BACK)
                .setParameter("finished", List.of(TargetState.COMMITTED, TargetState.ROLLED_BACK, TargetState.FAILED))
                .setParameter("from", fromMs).getResultList());
    }

    private static String keys(AlertScope scope, String c, String m, String v, String d) {
        return c + ", " + (scope == AlertScope.CLASS ? "cast(null as String)" : m) + ", "
                + (scope == AlertScope.VERSION || scope == AlertScope.DEVICE ? v : "cast(null as Long)") + ", "
                + (scope == AlertScope.DEVICE ? d : "cast(null as String)");
    }

    private static String groupBy(AlertScope scope, String c, String m, String v, String d) {
        return switch (scope) {
            case CLASS -> c;
            case MODEL -> c + ", " + m;
            case VERSION -> c + ", " + m + ", " + v;
            case DEVICE -> c + ", " + m + ", " + v + ", " + d;
        };
    }

    private static List<Count> counts(List<Object[]> rows) {
        return rows.stream().map(r -> new Count((String) r[0], (String) r[1], r[2] == null ? null : ((Number) r[2]).longValue(),
                (String) r[3], ((Number) r[4]).longValue(), ((Number) r[5]).longValue())).toList();
    }
}
