package io.edgefleet.server.telemetry;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.hibernate.Session;
import org.hibernate.query.SelectionQuery;

/**
 * Telemetry windows summed up in SQL aggregates (never by loading every row): for a set of devices,
 * and grouped per class / model / version or per device, for wave gates and alert rules.
 *
 * <p><b>Time range.</b> A window belongs to {@code [fromMs, toMs]} when its {@code windowEnd} falls in
 * {@code (fromMs, toMs]}: consecutive ranges never count a window twice, and a range ending "now"
 * includes the window that just closed. Replayed windows (sent from the offline buffer) count like
 * any other; they are real inferences.
 *
 * <p><b>p95 over several windows.</b> Devices report a p95 per window, not their samples, so the p95
 * of the pooled samples cannot be computed exactly. The summary reports the <em>largest window
 * p95</em>. It is an honest upper bound: every window has at most 5% of its successful inferences
 * above its own p95, so at most 5% above the largest one, and so at most 5% of the pooled samples
 * are above it. A gate "p95 &le; SLO" that passes on this figure holds for the pooled p95 too; one
 * slow window can fail it (that is the conservative side, and the point of a gate). A mean of window
 * p95s, weighted or not, is not a percentile of anything and is not used. Windows without
 * successful inferences carry no latency and do not count.
 *
 * <p><b>Energy</b> per inference is the inference-weighted mean over the windows that report it
 * (total estimated energy / their inferences), which is exact for that subset. <b>Drift</b> is the
 * largest window score. <b>Error rate</b> is total errors / total inferences.
 *
 * <p>Large device sets are queried in chunks of {@value #CHUNK} ids (databases limit bound
 * parameters); chunks hold disjoint devices, so sums, maxima and distinct-device counts add up exactly.
 */
@ApplicationScoped
public class TelemetryAggregates {
    static final int CHUNK = 1000;

    /** One group of a grouped query: the keys it was grouped by (null where not grouped) and its summary. */
    public record Group(String classId, String deviceId, String modelName, Long modelVersion, WindowSummary summary) {
    }

    private static final String AGGREGATES = "count(t), count(distinct t.deviceId), coalesce(sum(t.inferences), 0),"
            + " coalesce(sum(t.errors), 0), max(t.latencyP95),"
            + " sum(case when t.energyMj is not null then t.energyMj * t.inferences else 0.0 end),"
            + " sum(case when t.energyMj is not null then t.inferences else 0 end), max(t.drift)";

    @Inject
    Session session;

    /**
     * Sums the windows of {@code deviceIds} (null: every device) in the time range, restricted to one
     * model (null: any) and version (null: any version of it).
     */
    @Transactional
    public WindowSummary summarize(Collection<String> deviceIds, String modelName, Long modelVersion,
            long fromMs, long toMs) {
        if (deviceIds != null && deviceIds.isEmpty()) {
            return WindowSummary.EMPTY;
        }
        StringBuilder hql = new StringBuilder("select ").append(AGGREGATES)
                .append(" from TelemetryWindowEntity t where t.windowEnd > :from and t.windowEnd <= :to");
        if (deviceIds != null) {
            hql.append(" and t.deviceId in :ids");
        }
        if (modelName != null) {
            hql.append(" and t.modelName = :model");
        }
        if (modelVersion != null) {
            hql.append(" and t.modelVersion = :version");
        }
        List<List<String>> chunks = deviceIds == null ? java.util.Collections.singletonList(null) : chunks(deviceIds);
        Acc total = new Acc();
        for (List<String> chunk : chunks) {
            SelectionQuery<Object[]> q = session.createSelectionQuery(hql.toString(), Object[].class)
                    .setParameter("from", fromMs).setParameter("to", toMs);
            if (chunk != null) {
                q.setParameter("ids", chunk);
            }
            if (modelName != null) {
                q.setParameter("model", modelName);
            }
            if (modelVersion != null) {
                q.setParameter("version", modelVersion);
            }
            total.add(q.getSingleResult(), 0);
        }
        return total.summary();
    }

    /** How {@link #grouped} groups windows; every grouping includes the device's class. */
    public enum Grouping {
        CLASS("d.classId", "null", "null", "null"),
        MODEL("d.classId", "null", "t.modelName", "null"),
        VERSION("d.classId", "null", "t.modelName", "t.modelVersion"),
        DEVICE("d.classId", "t.deviceId", "t.modelName", "t.modelVersion");

        final String classKey;
        final String deviceKey;
        final String modelKey;
        final String versionKey;

        Grouping(String classKey, String deviceKey, String modelKey, String versionKey) {
            this.classKey = classKey;
            this.deviceKey = deviceKey;
            this.modelKey = modelKey;
            this.versionKey = versionKey;
        }

        String groupBy() {
            StringBuilder b = new StringBuilder(classKey);
            for (String k : new String[] {deviceKey, modelKey, versionKey}) {
                if (!k.equals("null")) {
                    b.append(", ").append(k);
                }
            }
            return b.toString();
        }
    }

    /** Windows in the time range grouped per class, per class and model, per class/model/version or per device and version. */
    @Transactional
    public List<Group> grouped(Grouping by, long fromMs, long toMs) {
        String keys = by.classKey + ", " + (by.deviceKey.equals("null") ? "cast(null as String)" : by.deviceKey) + ", "
                + (by.modelKey.equals("null") ? "cast(null as String)" : by.modelKey) + ", "
                + (by.versionKey.equals("null") ? "cast(null as Long)" : by.versionKey);
        List<Object[]> rows = session.createSelectionQuery("select " + keys + ", " + AGGREGATES
                        + " from TelemetryWindowEntity t join DeviceEntity d on d.id = t.deviceId"
                        + " where t.windowEnd > :from and t.windowEnd <= :to group by " + by.groupBy(), Object[].class)
                .setParameter("from", fromMs).setParameter("to", toMs).getResultList();
        List<Group> out = new ArrayList<>(rows.size());
        for (Object[] r : rows) {
            Acc a = new Acc();
            a.add(r, 4);
            out.add(new Group((String) r[0], (String) r[1], (String) r[2], (Long) r[3], a.summary()));
        }
        return out;
    }

    /** Windows in the time range grouped per device class, model and version (model null: no model loaded). */
    @Transactional
    public List<Group> byClassModelVersion(long fromMs, long toMs) {
        return grouped(Grouping.VERSION, fromMs, toMs);
    }

    /** Windows in the time range grouped per device (with its class) and model version. */
    @Transactional
    public List<Group> byDevice(long fromMs, long toMs) {
        return grouped(Grouping.DEVICE, fromMs, toMs);
    }

    private static List<List<String>> chunks(Collection<String> ids) {
        List<String> all = new ArrayList<>(new java.util.LinkedHashSet<>(ids));
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i += CHUNK) {
            out.add(all.subList(i, Math.min(all.size(), i + CHUNK)));
        }
        return out;
    }

    /** Adds up aggregate rows of disjoint device sets. */
    private static final class Acc {
        long windows;
        long devices;
        long inferences;
        long errors;
        Double p95;
        double energyTotal;
        long energyInferences;
        Double drift;

        void add(Object[] r, int at) {
            windows += num(r[at]).longValue();
            devices += num(r[at + 1]).longValue();
            inferences += num(r[at + 2]).longValue();
            errors += num(r[at + 3]).longValue();
            p95 = max(p95, r[at + 4]);
            energyTotal += r[at + 5] == null ? 0 : num(r[at + 5]).doubleValue();
            energyInferences += r[at + 6] == null ? 0 : num(r[at + 6]).longValue();
            drift = max(drift, r[at + 7]);
        }

        WindowSummary summary() {
            if (windows == 0) {
                return WindowSummary.EMPTY;
            }
            return new WindowSummary(windows, devices, inferences, errors,
                    inferences == 0 ? null : (double) errors / inferences, p95,
                    energyInferences == 0 ? null : energyTotal / energyInferences, drift);
        }

        private static Number num(Object o) {
            return o == null ? 0 : (Number) o;
        }

        private static Double max(Double current, Object v) {
            if (v == null) {
                return current;
            }
            double d = ((Number) v).doubleValue();
            return current == null || d > current ? d : current;
        }
    }
}
