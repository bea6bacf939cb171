package io.edgefleet.server.alert;

import io.edgefleet.server.alert.AlertDtos.RuleRequest;
import io.edgefleet.server.alert.AlertDtos.RuleView;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.telemetry.TelemetryConfig;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/** Rules as data: REST CRUD and the built-in rules whose thresholds follow each class's SLOs. */
@ApplicationScoped
public class AlertRuleService {
    private static final Logger LOG = Logger.getLogger(AlertRuleService.class);

    @Inject
    Session session;

    @Inject
    AlertsConfig config;

    @Inject
    TelemetryConfig telemetry;

    /**
     * The built-in rules: one per metric, evaluated per class / model / version (per class for the
     * offline share). Latency and energy have no threshold of their own: each group is compared with
     * its class's SLO, so they follow the SLOs as classes are created and edited.
     */
    public static List<AlertRule> builtins() {
        return List.of(
                builtin("slo-p95-latency", AlertMetric.P95_LATENCY_MS, AlertScope.VERSION, null, 20, 60, 120,
                        Severity.CRITICAL, "p95 latency above the class SLO"),
                builtin("error-rate", AlertMetric.ERROR_RATE, AlertScope.VERSION, 0.05, 20, 60, 120,
                        Severity.CRITICAL, "more than 5% of inferences fail"),
                builtin("slo-energy", AlertMetric.ENERGY_MJ_PER_INFERENCE, AlertScope.VERSION, null, 20, 300, 300,
                        Severity.WARNING, "energy per inference above the class SLO (classes without one are not checked)"),
                builtin("drift", AlertMetric.DRIFT_SCORE, AlertScope.VERSION, null, 1, 300, 600,
                        Severity.WARNING, "input drift (PSI) above 0.2"),
                builtin("class-offline", AlertMetric.OFFLINE_SHARE, AlertScope.CLASS, 0.2, 1, 60, 300,
                        Severity.WARNING, "more than 20% of a class's devices offline"),
                builtin("rollback-rate", AlertMetric.ROLLBACK_RATE, AlertScope.VERSION, 0.1, 5, 3600, 0,
                        Severity.WARNING, "more than 10% of finished deployment targets rolled back in the last hour"));
    }

    private static AlertRule builtin(String id, AlertMetric metric, AlertScope scope, Double threshold, long minSamples,
            long lookback, long forSeconds, Severity severity, String description) {
        return new AlertRule(id, metric.defaultName(), metric, scope, null, null, null, null, threshold, minSamples,
                lookback, forSeconds, severity, AlertAction.NONE, null, description, true, true);
    }

    void seed(@Observes StartupEvent ev) {
        QuarkusTransaction.requiringNew().run(() -> {
            long now = System.currentTimeMillis();
            if (!config.defaultRules()) {
                int removed = session.createMutationQuery("delete from AlertRuleEntity where builtin = true").executeUpdate();
                if (removed > 0) {
                    LOG.infof("Removed %d built-in alert rule(s) (edgefleet.alerts.default-rules=false)", removed);
                }
                return;
            }
            for (AlertRule r : builtins()) {
                if (session.find(AlertRuleEntity.class, r.id()) == null) {
                    AlertRuleEntity e = new AlertRuleEntity();
                    e.set(r);
                    e.createdAt = now;
                    e.updatedAt = now;
                    session.persist(e);
                }
            }
        });
        loadRulesFile(config.rulesFile().filter(f -> !f.isBlank()).orElse(null));
    }

    /** The rules file last applied, for messages. */
    private volatile String rulesFile;

    /**
     * Applies {@code edgefleet.alerts.rules-file}: its rules replace any rule of the same id (built-in or made over
     * REST) and become read-only over REST; rules that came from the file and are no longer in it are deleted (a
     * built-in one goes back to its built-in definition). A file that cannot be used stops start-up.
     */
    void loadRulesFile(String file) {
        List<AlertRule> fromFile = file == null ? List.of()
                : AlertRulesFile.load(Path.of(file), fileLookups(), telemetry.rawRetention().toSeconds());
        rulesFile = file;
        Map<String, AlertRule> builtinById = builtins().stream().collect(Collectors.toMap(AlertRule::id, r -> r));
        QuarkusTransaction.requiringNew().run(() -> {
            long now = System.currentTimeMillis();
            Set<String> ids = new HashSet<>();
            for (AlertRule r : fromFile) {
                ids.add(r.id());
                AlertRuleEntity e = session.find(AlertRuleEntity.class, r.id());
                boolean created = e == null;
                if (created) {
                    e = new AlertRuleEntity();
                    e.createdAt = now;
                }
                boolean builtin = !created && e.builtin;
                e.set(new AlertRule(r.id(), r.name(), r.metric(), r.scope(), r.classId(), r.modelName(), r.modelVersion(),
                        r.deviceId(), r.threshold(), r.minSamples(), r.lookbackSeconds(), r.forSeconds(), r.severity(),
                        r.action(), r.runbookUrl(), r.description(), r.enabled(), builtin));
                e.fromFile = true;
                e.updatedAt = now;
                if (created) {
                    session.persist(e);
                }
            }
            for (AlertRuleEntity e : session.createSelectionQuery("from AlertRuleEntity where fromFile = true",
                    AlertRuleEntity.class).getResultList()) {
                if (ids.contains(e.id)) {
                    continue;
                }
                if (e.builtin && builtinById.containsKey(e.id)) {
                    e.set(builtinById.get(e.id));
                    e.fromFile = false;
                    e.updatedAt = now;
                } else {
                    session.remove(e);
                }
            }
        });
        if (!fromFile.isEmpty()) {
            LOG.infof("Loaded %d alert rule(s) from %s: %s", fromFile.size(), file,
                    fromFile.stream().map(AlertRule::id).toList());
        }
    }

    /**
     * The file is read at start, possibly before the classes, devices and models it names exist (a fresh database):
     * every field is checked as over REST, but a filter naming something not there yet is a warning (the rule has
     * no data until it exists), not a refusal.
     */
    private RuleValidator.Lookups fileLookups() {
        RuleValidator.Lookups db = lookups();
        return new RuleValidator.Lookups() {
            @Override
            public boolean classExists(String id) {
                return warnUnless(db.classExists(id), "device class", id);
            }

            @Override
            public boolean deviceExists(String id) {
                return warnUnless(db.deviceExists(id), "device", id);
            }

            @Override
            public boolean modelExists(String name, Long version) {
                return warnUnless(db.modelExists(name, version), "model", name + (version == null ? "" : ":" + version));
            }
        };
    }

    private static boolean warnUnless(boolean exists, String what, String id) {
        if (!exists) {
            LOG.warnf("edgefleet.alerts.rules-file names %s '%s', which does not exist yet: its rule has no data until it does",
                    what, id);
        }
        return true;
    }

    /** Ids of the rules the rules file defines. */
    private Set<String> fileRuleIds() {
        return QuarkusTransaction.requiringNew().call(() -> new HashSet<>(session.createSelectionQuery(
                "select r.id from AlertRuleEntity r where r.fromFile = true", String.class).getResultList()));
    }

    private void refuseFileRule(AlertRuleEntity e) {
        if (e.fromFile) {
            throw new ApiException(ErrorCode.CONFLICT, "alert rule '" + e.id + "' comes from edgefleet.alerts.rules-file ("
                    + rulesFile + "); edit the file and restart the server");
        }
    }

    /** Every rule, enabled or not. */
    public List<AlertRule> all() {
        return QuarkusTransaction.requiringNew().call(() -> session.createSelectionQuery(
                "from AlertRuleEntity order by id", AlertRuleEntity.class).getResultStream().map(AlertRuleEntity::toRule).toList());
    }

    public List<RuleView> list() {
        Set<String> file = fileRuleIds();
        return all().stream().map(r -> view(r, file.contains(r.id()))).toList();
    }

    public RuleView get(String id) {
        return QuarkusTransaction.requiringNew().call(() -> {
            AlertRuleEntity e = require(id);
            return view(e.toRule(), e.fromFile);
        });
    }

    public RuleView create(RuleRequest req) {
        AlertRule rule = validate(req.id(), req, false);
        return view(QuarkusTransaction.requiringNew().call(() -> {
            if (session.find(AlertRuleEntity.class, rule.id()) != null) {
                throw new ApiException(ErrorCode.ALREADY_EXISTS, "alert rule '" + rule.id() + "' already exists");
            }
            AlertRuleEntity e = new AlertRuleEntity();
            e.set(rule);
            e.createdAt = System.currentTimeMillis();
            e.updatedAt = e.createdAt;
            session.persist(e);
            return rule;
        }));
    }

    /** Replaces a rule (built-in ones too: they stay built-in, and the edit survives restarts). */
    public RuleView replace(String id, RuleRequest req) {
        if (req.id() != null && !req.id().equals(id)) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, "the id in the body ('" + req.id()
                    + "') differs from the path ('" + id + "')");
        }
        return view(QuarkusTransaction.requiringNew().call(() -> {
            AlertRuleEntity e = require(id);
            refuseFileRule(e);
            AlertRule rule = validate(id, req, e.builtin);
            e.set(rule);
            e.updatedAt = System.currentTimeMillis();
            return rule;
        }));
    }

    /** Deletes a custom rule; its open alerts resolve at the next evaluation. Built-in ones are disabled instead. */
    public void delete(String id) {
        QuarkusTransaction.requiringNew().run(() -> {
            AlertRuleEntity e = require(id);
            refuseFileRule(e);
            if (e.builtin) {
                throw new ApiException(ErrorCode.CONFLICT, "alert rule '" + id
                        + "' is built in; disable it (PUT with \"enabled\": false) or set edgefleet.alerts.default-rules=false");
            }
            session.remove(e);
        });
    }

    public String runbookUrl(AlertRule r) {
        return r.runbookUrl() != null ? r.runbookUrl() : config.runbookBaseUrl() + r.metric().defaultName() + ".md";
    }

    private RuleView view(AlertRule r) {
        return RuleView.of(r, runbookUrl(r));
    }

    private RuleView view(AlertRule r, boolean fromFile) {
        return RuleView.of(r, runbookUrl(r), fromFile ? "file" : r.builtin() ? "builtin" : "api");
    }

    private AlertRuleEntity require(String id) {
        AlertRuleEntity e = session.find(AlertRuleEntity.class, id);
        if (e == null) {
            throw ApiException.notFound("alert rule", id);
        }
        return e;
    }

    private AlertRule validate(String id, RuleRequest req, boolean builtin) {
        return RuleValidator.validate(id, req, builtin, lookups(), telemetry.rawRetention().toSeconds());
    }

    private RuleValidator.Lookups lookups() {
        return new RuleValidator.Lookups() {
            @Override
            public boolean classExists(String classId) {
                return exists("select count(c) from DeviceClassEntity c where c.id = :v", classId);
            }

            @Override
            public boolean deviceExists(String deviceId) {
                return exists("select count(d) from DeviceEntity d where d.id = :v", deviceId);
            }

            @Override
            public boolean modelExists(String name, Long version) {
                return QuarkusTransaction.joiningExisting().call(() -> {
                    var q = session.createSelectionQuery("select count(m) from ModelVersionEntity m where m.name = :n"
                            + (version == null ? "" : " and m.version = :v"), Long.class).setParameter("n", name);
                    if (version != null) {
                        q.setParameter("v", version);
                    }
                    return q.getSingleResult() > 0;
                });
            }
        };
    }

    private boolean exists(String hql, String value) {
        return QuarkusTransaction.joiningExisting().call(() ->
                session.createSelectionQuery(hql, Long.class).setParameter("v", value).getSingleResult() > 0);
    }
}
