package io.edgefleet.server.alert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.server.alert.AlertDtos.AlertView;
import io.edgefleet.server.alert.AlertDtos.RecompressionView;
import io.edgefleet.server.alert.AlertEvaluator.Change;
import io.edgefleet.server.alert.AlertEvaluator.Observation;
import io.edgefleet.server.alert.AlertEvaluator.Open;
import io.edgefleet.server.alert.AlertEvaluator.Transition;
import io.edgefleet.server.alert.RuleObservations.ClassSlo;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.telemetry.TelemetryAggregates;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * One evaluation pass: reads what every rule watches (one grouped query per scope and lookback,
 * shared by the rules that need it), applies {@link AlertEvaluator}, stores the transitions in one
 * transaction, then runs the actions of alerts that started firing and hands the notifications to
 * the {@link WebhookDispatcher} (which never blocks this pass).
 */
@ApplicationScoped
public class AlertService {
    private static final Logger LOG = Logger.getLogger(AlertService.class);
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {
    };

    @Inject
    Session session;

    @Inject
    AlertRuleService rules;

    @Inject
    AlertQueries queries;

    @Inject
    TelemetryAggregates telemetry;

    @Inject
    AlertActions actions;

    @Inject
    WebhookDispatcher webhooks;

    @Inject
    ObjectMapper json;

    @Inject
    MeterRegistry registry;

    @Inject
    AlertsConfig config;

    /** What one pass did. */
    public record PassResult(int rules, int observations, int pending, int fired, int resolved, int dropped, long millis,
                             int repeated) {
        public PassResult(int rules, int observations, int pending, int fired, int resolved, int dropped, long millis) {
            this(rules, observations, pending, fired, resolved, dropped, millis, 0);
        }
    }

    /** A notification-worthy change after commit: the alert as stored, and its rule. */
    record Notified(AlertRule rule, AlertEntity alert, boolean repeat) {
        Notified(AlertRule rule, AlertEntity alert) {
            this(rule, alert, false);
        }
    }

    public synchronized PassResult evaluate(long now) {
        long started = System.nanoTime();
        List<AlertRule> all = rules.all();
        Map<String, AlertRule> byId = all.stream().collect(Collectors.toMap(AlertRule::id, r -> r));
        int[] counts = new int[7];
        List<Notified> notify = QuarkusTransaction.requiringNew().call(() -> {
            Map<String, ClassSlo> slos = queries.classSlos();
            Map<String, List<AlertEntity>> openByRule = new HashMap<>();
            for (AlertEntity a : session.createSelectionQuery("from AlertEntity where openKey is not null",
                    AlertEntity.class).getResultList()) {
                openByRule.computeIfAbsent(a.ruleId, k -> new ArrayList<>()).add(a);
            }
            Map<String, Object> cache = new HashMap<>();
            List<Notified> out = new ArrayList<>();
            for (AlertRule rule : all) {
                List<Observation> obs = rule.enabled() ? observe(rule, slos, now, cache) : List.of();
                counts[0]++;
                counts[1] += obs.size();
                apply(rule, obs, openByRule.remove(rule.id()), now, counts, out);
            }
            // Open alerts of deleted rules resolve.
            for (Map.Entry<String, List<AlertEntity>> e : openByRule.entrySet()) {
                AlertEntity any = e.getValue().get(0);
                AlertRule gone = new AlertRule(e.getKey(), any.name, AlertMetric.ERROR_RATE, AlertScope.VERSION, null, null,
                        null, null, null, 0, 1, 0, Severity.valueOf(any.severity.toUpperCase(Locale.ROOT)),
                        AlertAction.NONE, null, null, false, false);
                apply(gone, List.of(), e.getValue(), now, counts, out);
            }
            return out;
        });
        for (Notified n : notify) {
            if (n.alert().state == AlertState.FIRING && !n.repeat() && n.rule().action() != AlertAction.NONE) {
                String result = actions.run(n.rule(), n.alert(), labels(n.alert()));
                QuarkusTransaction.requiringNew().run(() -> {
                    AlertEntity a = session.find(AlertEntity.class, n.alert().id);
                    if (a != null) {
                        a.actionResult = result.length() > 1000 ? result.substring(0, 1000) : result;
                    }
                });
                n.alert().actionResult = result;
            }
        }
        notifyReceivers(notify);
        long nanos = System.nanoTime() - started;
        Timer.builder("edgefleet.alert.evaluation").description("Duration of one rule evaluation pass")
                .register(registry).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        PassResult r = new PassResult(counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], nanos / 1_000_000,
                counts[6]);
        if (counts[3] + counts[4] + counts[6] > 0) {
            LOG.infof("Alert evaluation: %d fired, %d resolved, %d re-notified (%d rules, %d observations, %d ms)",
                    counts[3], counts[4], counts[6], counts[0], counts[1], r.millis());
        }
        return r;
    }

    private void apply(AlertRule rule, List<Observation> obs, List<AlertEntity> open, long now, int[] counts,
            List<Notified> out) {
        Map<String, AlertEntity> openByFp = new HashMap<>();
        List<Open> openStates = new ArrayList<>();
        if (open != null) {
            for (AlertEntity a : open) {
                openByFp.put(a.fingerprint, a);
                openStates.add(new Open(a.fingerprint, a.state, a.activeAt, a.notifiedAt));
            }
        }
        long repeatMillis = config.repeatInterval().toMillis();
        for (Transition t : AlertEvaluator.evaluate(rule, obs, openStates, now, repeatMillis)) {
            AlertEntity a = openByFp.get(t.fingerprint());
            switch (t.change()) {
                case PENDING, FIRING -> {
                    boolean created = a == null;
                    if (created) {
                        a = new AlertEntity();
                        a.ruleId = rule.id();
                        a.name = rule.name();
                        a.severity = rule.severity().label();
                        a.fingerprint = t.fingerprint();
                        a.openKey = AlertEntity.openKey(rule.id(), t.fingerprint());
                        a.labels = toJson(t.labels());
                        a.activeAt = t.activeAt();
                    }
                    a.state = t.change() == Change.FIRING ? AlertState.FIRING : AlertState.PENDING;
                    a.value = t.value();
                    a.threshold = t.threshold();
                    a.annotations = toJson(annotations(rule, t.labels(), t.value(), t.threshold()));
                    a.updatedAt = now;
                    if (t.change() == Change.FIRING) {
                        a.firedAt = now;
                        a.notifiedAt = now;
                    }
                    if (created) {
                        session.persist(a);
                    }
                    if (t.change() == Change.FIRING) {
                        counts[3]++;
                        out.add(new Notified(rule, a));
                        registry.counter("edgefleet.alerts.fired", "alertname", rule.name(), "severity",
                                rule.severity().label()).increment();
                    } else {
                        counts[2]++;
                    }
                }
                case REPEAT -> {
                    a.value = t.value();
                    a.threshold = t.threshold();
                    a.annotations = toJson(annotations(rule, t.labels(), t.value(), t.threshold()));
                    a.updatedAt = now;
                    a.notifiedAt = now;
                    counts[6]++;
                    out.add(new Notified(rule, a, true));
                }
                case RESOLVED -> {
                    a.state = AlertState.RESOLVED;
                    a.openKey = null;
                    a.resolvedAt = now;
                    a.updatedAt = now;
                    counts[4]++;
                    out.add(new Notified(rule, a));
                }
                case DROPPED -> {
                    session.remove(a);
                    counts[5]++;
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private List<Observation> observe(AlertRule rule, Map<String, ClassSlo> slos, long now, Map<String, Object> cache) {
        long from = now - rule.lookbackSeconds() * 1000;
        return switch (rule.metric()) {
            case P95_LATENCY_MS, ERROR_RATE, ENERGY_MJ_PER_INFERENCE, DRIFT_SCORE -> {
                TelemetryAggregates.Grouping g = TelemetryAggregates.Grouping.valueOf(rule.scope().name());
                List<TelemetryAggregates.Group> groups = (List<TelemetryAggregates.Group>) cache.computeIfAbsent(
                        "t/" + g + "/" + from, k -> telemetry.grouped(g, from, now));
                yield RuleObservations.fromTelemetry(rule, groups, slos);
            }
            case OFFLINE_SHARE -> RuleObservations.fromCounts(rule, (List<RuleObservations.Count>) cache.computeIfAbsent(
                    "o/" + rule.scope(), k -> queries.offline(rule.scope())));
            case ROLLBACK_RATE -> RuleObservations.fromCounts(rule, (List<RuleObservations.Count>) cache.computeIfAbsent(
                    "r/" + rule.scope() + "/" + from, k -> queries.rollbacks(rule.scope(), from)));
        };
    }

    Map<String, String> annotations(AlertRule rule, Map<String, String> labels, Double value, Double threshold) {
        Map<String, String> m = new TreeMap<>();
        String where = labels.entrySet().stream()
                .filter(e -> Set.of(AlertLabels.CLASS, AlertLabels.MODEL, AlertLabels.VERSION, AlertLabels.DEVICE)
                        .contains(e.getKey()))
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
        m.put("summary", String.format(Locale.ROOT, "%s %s above %s (%s)", rule.metric(), fmt(value), fmt(threshold), where));
        m.put("description", (rule.description() == null ? rule.metric().toString() : rule.description())
                + "; rule '" + rule.id() + "', over the last " + rule.lookbackSeconds() + " s"
                + (rule.forSeconds() > 0 ? ", holding for " + rule.forSeconds() + " s" : "")
                + (rule.action() == AlertAction.NONE ? "" : "; action " + rule.action()));
        m.put("runbook_url", rules.runbookUrl(rule));
        m.put("value", fmt(value));
        m.put("threshold", fmt(threshold));
        return m;
    }

    private static String fmt(Double v) {
        return v == null ? "" : String.format(Locale.ROOT, "%.4g", v);
    }

    private void notifyReceivers(List<Notified> notified) {
        Map<String, List<Notified>> byRule = new LinkedHashMap<>();
        notified.forEach(n -> byRule.computeIfAbsent(n.rule().id(), k -> new ArrayList<>()).add(n));
        for (List<Notified> group : byRule.values()) {
            List<AlertmanagerPayload.Alert> alerts = group.stream().map(n -> new AlertmanagerPayload.Alert(
                    n.alert().state == AlertState.FIRING ? "firing" : "resolved", labels(n.alert()),
                    parse(n.alert().annotations), n.alert().activeAt, n.alert().resolvedAt, n.alert().ruleId,
                    n.alert().fingerprint)).toList();
            webhooks.enqueue(group.get(0).rule().name(), alerts);
        }
    }

    // ---------------------------------------------------------------- REST side

    public List<AlertView> list(String state, String rule, int limit) {
        AlertState s = null;
        if (state != null && !state.isBlank()) {
            try {
                s = AlertState.valueOf(state.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid("unknown state '" + state + "'; one of PENDING, FIRING, RESOLVED");
            }
        }
        if (limit < 1 || limit > 1000) {
            throw ApiException.invalid("limit must be between 1 and 1000");
        }
        AlertState filter = s;
        return QuarkusTransaction.requiringNew().call(() -> {
            var q = session.createSelectionQuery("from AlertEntity a where 1 = 1"
                    + (filter == null ? "" : " and a.state = :s") + (rule == null ? "" : " and a.ruleId = :r")
                    + " order by a.id desc", AlertEntity.class).setMaxResults(limit);
            if (filter != null) {
                q.setParameter("s", filter);
            }
            if (rule != null) {
                q.setParameter("r", rule);
            }
            return q.getResultStream().map(this::view).toList();
        });
    }

    public List<RecompressionView> recompressionRequests(String status) {
        return QuarkusTransaction.requiringNew().call(() -> {
            var q = session.createSelectionQuery("from RecompressionRequestEntity r"
                    + (status == null ? "" : " where r.status = :s") + " order by r.id", RecompressionRequestEntity.class);
            if (status != null) {
                q.setParameter("s", status.trim().toUpperCase(Locale.ROOT));
            }
            return q.getResultStream().map(RecompressionView::of).toList();
        });
    }

    private AlertView view(AlertEntity a) {
        return new AlertView(a.id, a.ruleId, a.name, a.state, a.severity, a.fingerprint, parse(a.labels),
                parse(a.annotations), a.value, a.threshold, a.activeAt, a.firedAt, a.resolvedAt, a.actionResult);
    }

    Map<String, String> labels(AlertEntity a) {
        return parse(a.labels);
    }

    private Map<String, String> parse(String s) {
        try {
            return s == null ? Map.of() : json.readValue(s, STRING_MAP);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private String toJson(Map<String, String> m) {
        try {
            return json.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
