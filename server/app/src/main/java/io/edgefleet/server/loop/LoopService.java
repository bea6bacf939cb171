package io.edgefleet.server.loop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.engine.planner.Candidate;
import io.edgefleet.engine.planner.CandidateGenerator;
import io.edgefleet.protocol.drift.ReferenceProfile;
import io.edgefleet.server.alert.AlertEntity;
import io.edgefleet.server.alert.AlertMetric;
import io.edgefleet.server.alert.AlertRuleEntity;
import io.edgefleet.server.alert.RecompressionRequestEntity;
import io.edgefleet.server.api.ApiError;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.compression.DatasetService;
import io.edgefleet.server.deviceclass.DeviceClassEntity;
import io.edgefleet.server.deviceclass.DeviceClassService;
import io.edgefleet.server.loop.LoopDecisions.Decision;
import io.edgefleet.server.loop.LoopDecisions.Event;
import io.edgefleet.server.loop.LoopDecisions.Verdict;
import io.edgefleet.server.loop.LoopDtos.ClassLoopRequest;
import io.edgefleet.server.loop.LoopDtos.ClassLoopView;
import io.edgefleet.server.loop.LoopDtos.HistoryEntry;
import io.edgefleet.server.loop.LoopDtos.LoopView;
import io.edgefleet.server.planner.ClassVariantEntity;
import io.edgefleet.server.planner.PlanDtos;
import io.edgefleet.server.planner.PlanDtos.Budget;
import io.edgefleet.server.planner.PlanDtos.PlanRequest;
import io.edgefleet.server.planner.PlanDtos.PlanView;
import io.edgefleet.server.planner.PlanJobEntity;
import io.edgefleet.server.planner.PlannerService;
import io.edgefleet.server.rollout.DeploymentDtos.CreateDeploymentRequest;
import io.edgefleet.server.rollout.DeploymentDtos.DeploymentView;
import io.edgefleet.server.rollout.DeploymentDtos.TargetView;
import io.edgefleet.server.rollout.RolloutService;
import io.edgefleet.server.rollout.TargetState;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import org.hibernate.Session;
import org.jboss.logging.Logger;

/**
 * The closed loop at the edges: takes the re-compression requests that RECOMPRESS alerts record, decides with
 * {@link LoopDecisions}, submits the re-plan to the {@link PlannerService} (its accuracy gate and SLO checks are the
 * variant's gate), sends the chosen variant out as a canary deployment through the rollout waves, and records the
 * outcome in the class-variant registry (only a promoted variant becomes the class's variant). Every step is a row of
 * {@code loop_run} (V11), advanced by {@link #tick}, so a restart resumes where the rows are.
 */
@ApplicationScoped
public class LoopService {
    private static final Logger LOG = Logger.getLogger(LoopService.class);
    /** The dataset-name prefix of captured device inputs (seams: {@code capture/<classId>/<model>/<yyyyMMddHHmmss>}). */
    public static final String CAPTURE_PREFIX = "capture/";
    static final String TAKEN = "TAKEN";
    private static final TypeReference<List<HistoryEntry>> HISTORY = new TypeReference<>() {
    };
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };

    @Inject
    Session session;

    @Inject
    PlannerService planner;

    @Inject
    RolloutService rollouts;

    @Inject
    DeviceClassService classes;

    @Inject
    DatasetService datasets;

    @Inject
    LoopConfig config;

    @Inject
    ObjectMapper json;

    /** One pass: take open re-compression requests, then move every open loop as far as it can go. */
    public synchronized void tick(long now) {
        List<Long> open = QuarkusTransaction.requiringNew().call(() -> session.createSelectionQuery(
                "select r.id from RecompressionRequestEntity r where r.status = :s order by r.id", Long.class)
                .setParameter("s", RecompressionRequestEntity.OPEN).getResultList());
        for (Long id : open) {
            try {
                QuarkusTransaction.requiringNew().run(() -> take(id, now));
            } catch (RuntimeException e) {
                LOG.warnf(e, "re-compression request %d could not be taken; tried again next pass", id);
            }
        }
        List<String> active = QuarkusTransaction.requiringNew().call(() -> session.createSelectionQuery(
                "select l.id from LoopRunEntity l where l.state in :s order by l.createdAt", String.class)
                .setParameter("s", List.of(LoopState.READY, LoopState.PLANNING, LoopState.GATED, LoopState.CANARY))
                .getResultList());
        for (String id : active) {
            try {
                advance(id, now);
            } catch (RuntimeException e) {
                LOG.warnf(e, "loop %s could not advance; tried again next pass", id);
            }
        }
    }

    // ---------------------------------------------------------------- decide

    private void take(long requestId, long now) {
        // A conditional update: of several server replicas, one takes the request.
        int taken = session.createMutationQuery("update RecompressionRequestEntity r set r.status = :taken "
                + "where r.id = :id and r.status = :open").setParameter("taken", TAKEN)
                .setParameter("open", RecompressionRequestEntity.OPEN).setParameter("id", requestId).executeUpdate();
        RecompressionRequestEntity r = session.find(RecompressionRequestEntity.class, requestId);
        if (taken != 1 || r == null) {
            return;
        }
        AlertRuleEntity rule = session.find(AlertRuleEntity.class, r.ruleId);
        AlertEntity alert = session.find(AlertEntity.class, r.alertId);
        List<String> models = new ArrayList<>();
        if (r.classId != null && r.modelName != null) {
            models.add(r.modelName);
        } else if (r.classId != null) {
            models.addAll(session.createSelectionQuery("select v.modelName from ClassVariantEntity v where "
                    + "v.deviceClassId = :c order by v.modelName", String.class).setParameter("c", r.classId)
                    .getResultList());
        }
        if (r.classId == null || rule == null || models.isEmpty()) {
            LoopRunEntity l = newLoop(r, alert, rule, r.modelName, now);
            l.state = LoopState.SKIPPED;
            l.reason = r.classId == null ? "the alert names no device class"
                    : rule == null ? "the alert's rule was deleted"
                    : "the class has no registered variant of any model; plan one first";
            finishNew(l, now);
            return;
        }
        for (String model : models) {
            decide(r, alert, rule, model, now);
        }
    }

    private void decide(RecompressionRequestEntity r, AlertEntity alert, AlertRuleEntity rule, String model,
            long now) {
        ClassLoopEntity cl = session.find(ClassLoopEntity.class, r.classId);
        LoopMode mode = cl != null ? cl.mode : defaultMode();
        ClassVariantEntity cv = session.find(ClassVariantEntity.class, ClassVariantEntity.key(model, r.classId));
        List<LoopRunEntity> recent = session.createSelectionQuery("from LoopRunEntity l where l.classId = :c "
                + "order by l.createdAt desc, l.id desc", LoopRunEntity.class).setParameter("c", r.classId)
                .setMaxResults(100).getResultList();
        boolean open = recent.stream().anyMatch(l -> !l.state.terminal());
        Long lastStarted = recent.stream().filter(l -> l.state.started())
                .map(l -> l.approvedAt != null ? l.approvedAt : l.createdAt).max(Long::compare).orElse(null);
        int rollbacks = LoopDecisions.consecutiveRollbacks(recent.stream().map(l -> l.state).toList());
        String fresh = freshData(r.classId, model, cl);
        Decision d = LoopDecisions.admit(new LoopDecisions.Admission(rule.metric, mode,
                cl != null && cl.backedOffAt != null, cv != null, open, lastStarted, config.cooldown().toMillis(),
                rollbacks, config.maxConsecutiveRollbacks(), fresh != null, now));

        LoopRunEntity l = newLoop(r, alert, rule, model, now);
        l.mode = mode;
        l.state = d.state();
        l.strategy = d.strategy();
        l.reason = truncate(d.reason());
        if (cv != null) {
            PlanJobEntity job = session.find(PlanJobEntity.class, cv.planJobId);
            l.fromVersion = cv.modelVersion;
            l.fromPlanId = cv.planJobId;
            if (job != null) {
                l.baseVersion = job.baseVersion;
                l.fromCandidate = job.choice;
                l.calibrationDataset = d.strategy() == LoopStrategy.RECALIBRATE ? fresh : job.calibrationDataset;
            }
        }
        if (d.verdict() == Verdict.BACK_OFF) {
            backOff(r.classId, mode, d.reason(), now);
        }
        l.history = history(List.of(new HistoryEntry(now, l.state, l.reason)));
        if (l.state.terminal()) {
            l.finishedAt = now;
        }
        session.persist(l);
        LOG.infof("Loop %s for class %s model %s: %s (%s)", l.id, r.classId, model, l.state, l.reason);
    }

    private LoopRunEntity newLoop(RecompressionRequestEntity r, AlertEntity alert, AlertRuleEntity rule, String model,
            long now) {
        LoopRunEntity l = new LoopRunEntity();
        l.id = UUID.randomUUID().toString();
        l.classId = r.classId;
        l.modelName = model;
        l.alertId = r.alertId;
        l.ruleId = r.ruleId;
        l.requestId = r.id;
        l.metric = rule == null ? null : rule.metric.name();
        l.alertFiredAt = alert == null ? null : alert.firedAt;
        l.mode = defaultMode();
        l.createdAt = now;
        l.updatedAt = now;
        return l;
    }

    private void finishNew(LoopRunEntity l, long now) {
        l.finishedAt = now;
        l.history = history(List.of(new HistoryEntry(now, l.state, l.reason)));
        session.persist(l);
    }

    private void backOff(String classId, LoopMode mode, String reason, long now) {
        ClassLoopEntity cl = session.find(ClassLoopEntity.class, classId);
        boolean created = cl == null;
        if (created) {
            cl = new ClassLoopEntity();
            cl.classId = classId;
            cl.mode = mode;
        }
        cl.backedOffAt = now;
        cl.backedOffReason = truncate(reason);
        cl.updatedAt = now;
        if (created) {
            session.persist(cl);
        }
    }

    /** The newest captured dataset of the class and model, else the operator's fresh dataset, else null. */
    private String freshData(String classId, String model, ClassLoopEntity cl) {
        List<String> captured = session.createSelectionQuery("select d.name from DatasetEntity d where d.name like :p "
                + "order by d.name desc", String.class).setParameter("p", CAPTURE_PREFIX + classId + "/" + model + "/%")
                .setMaxResults(1).getResultList();
        if (!captured.isEmpty()) {
            return captured.get(0);
        }
        return cl != null && cl.freshDataset != null && datasets.find(cl.freshDataset) != null ? cl.freshDataset
                : null;
    }

    private LoopMode defaultMode() {
        LoopMode m = LoopMode.parse(config.defaultMode());
        return m == null ? LoopMode.APPROVE : m;
    }

    // ---------------------------------------------------------------- advance

    private void advance(String id, long now) {
        LoopRunEntity l = QuarkusTransaction.requiringNew().call(() -> session.find(LoopRunEntity.class, id));
        if (l == null) {
            return;
        }
        switch (l.state) {
            case READY -> submitPlan(l, now);
            case PLANNING -> readPlan(l, now);
            case GATED -> deploy(l, now);
            case CANARY -> watch(l, now);
            default -> {
                return;
            }
        }
        LoopRunEntity after = QuarkusTransaction.requiringNew().call(() -> session.find(LoopRunEntity.class, id));
        if (after != null && after.state != l.state && !after.state.terminal() && after.state != LoopState.READY) {
            advance(id, now);
        }
    }

    /**
     * Claims a loop for a step with side effects (a plan, a deployment): of several server replicas (or a pass that
     * overlaps an approval) exactly one sees the row unchanged since it read it and goes on.
     */
    private boolean claim(LoopRunEntity l, long now) {
        long stamp = Math.max(now, l.updatedAt + 1);
        boolean won = QuarkusTransaction.requiringNew().call(() -> session.createMutationQuery("update LoopRunEntity l "
                        + "set l.updatedAt = :stamp where l.id = :id and l.state = :state and l.updatedAt = :seen")
                .setParameter("stamp", stamp).setParameter("id", l.id).setParameter("state", l.state)
                .setParameter("seen", l.updatedAt).executeUpdate() == 1);
        if (won) {
            l.updatedAt = stamp;
        }
        return won;
    }

    private void submitPlan(LoopRunEntity l, long now) {
        if (!claim(l, now)) {
            return;
        }
        PlanJobEntity from = planner.job(l.fromPlanId);
        DeviceClassEntity c = QuarkusTransaction.requiringNew().call(() -> classes.find(l.classId));
        if (from == null || c == null) {
            move(l.id, Event.PLAN_FAILED, from == null ? "the plan of the current variant is gone"
                    : "the device class was deleted", now, x -> { });
            return;
        }
        JsonNode stored = readTree(from.request);
        Map<String, String> params = json.convertValue(stored.get("params"),
                json.getTypeFactory().constructMapType(TreeMap.class, String.class, String.class));
        Map<String, Integer> axes = json.convertValue(stored.get("batchAxis"),
                json.getTypeFactory().constructMapType(TreeMap.class, String.class, Integer.class));
        List<Candidate> grid = CandidateGenerator.forClass(PlannerService.profile(c), true,
                params == null ? Map.of() : params).candidates();
        List<Candidate> space = LoopDecisions.candidates(l.strategy, grid, l.fromCandidate);
        List<String> ids = LoopDecisions.ids(space);
        if (space.isEmpty()) {
            String why = "no candidate of the class's grid is " + (l.strategy == LoopStrategy.AGGRESSIVE
                    ? "left to try besides" : "gentler than") + " " + l.fromCandidate;
            move(l.id, Event.NOTHING_TO_TRY, why, now, x -> x.candidates = toJson(ids));
            tellAlert(l, why);
            return;
        }
        LoopDecisions.Target target = l.strategy == LoopStrategy.AGGRESSIVE ? target(l, c) : null;
        Budget budget = stored.hasNonNull("budget") ? json.convertValue(stored.get("budget"), Budget.class) : null;
        PlanRequest req = new PlanRequest(l.classId, from.validationDataset, l.calibrationDataset, budget, params, axes,
                target == null ? null : new PlanDtos.Target(target.p95LatencyMs(), target.maxEnergyMj()));
        PlanView plan;
        try {
            plan = planner.submit(l.modelName, l.baseVersion, req, space, false,
                    l.strategy == LoopStrategy.RECALIBRATE && l.calibrationDataset != null
                            ? ReferenceProfile.SOURCE_CALIBRATION : ReferenceProfile.SOURCE_VALIDATION);
        } catch (ApiException e) {
            if (e.code() == ErrorCode.COMPRESSION_QUEUE_FULL) {
                LOG.infof("loop %s: the plan queue is full; submitted next pass", l.id);
                return;
            }
            move(l.id, Event.PLAN_FAILED, "the re-plan was refused: " + e.getMessage(), now,
                    x -> x.candidates = toJson(ids));
            return;
        }
        move(l.id, Event.SUBMITTED, "re-plan " + plan.id() + " over " + ids.size() + " candidate(s): "
                + String.join(", ", ids) + (target == null ? "" : "; target: " + target.reason()), now, x -> {
                    x.planJobId = plan.id();
                    x.candidates = toJson(ids);
                    x.planSubmittedAt = now;
                });
    }

    private void readPlan(LoopRunEntity l, long now) {
        PlanJobEntity j = planner.job(l.planJobId);
        if (j == null) {
            move(l.id, Event.PLAN_FAILED, "the re-plan " + l.planJobId + " is gone", now, x -> { });
            return;
        }
        long finished = j.finishedAt == null ? now : j.finishedAt;
        switch (j.status) {
            case CHOSEN -> move(l.id, Event.PLAN_CHOSEN, "chose " + j.choice + " (version " + j.resultVersion
                    + "): it passed the accuracy gate and meets every SLO of the class", now, x -> {
                        x.resultVersion = j.resultVersion;
                        x.choice = j.choice;
                        x.planFinishedAt = finished;
                    });
            case NO_CHOICE -> {
                JsonNode target = readTree(j.request).path("target");
                String why = "no candidate passed the gate and met every SLO" + (target.isObject()
                        ? " of the tightened target " + target : "") + "; nothing deployed (see the plan's closest "
                        + "candidates in plan " + j.id + ")";
                move(l.id, Event.PLAN_NO_CHOICE, why, now, x -> x.planFinishedAt = finished);
                tellAlert(l, why);
            }
            case FAILED, CANCELLED -> move(l.id, Event.PLAN_FAILED, "the re-plan ended " + j.status
                    + (j.error == null ? "" : ": " + j.error), now, x -> x.planFinishedAt = finished);
            default -> {
                // queued or running
            }
        }
    }

    /** The tightened SLO target of an AGGRESSIVE re-plan, from the alert's measurement and the class's SLOs. */
    private LoopDecisions.Target target(LoopRunEntity l, DeviceClassEntity c) {
        AlertEntity a = l.alertId == null ? null
                : QuarkusTransaction.requiringNew().call(() -> session.find(AlertEntity.class, l.alertId));
        AlertMetric metric;
        try {
            metric = l.metric == null ? null : AlertMetric.valueOf(l.metric);
        } catch (IllegalArgumentException e) {
            metric = null;
        }
        return metric == null ? null : LoopDecisions.tightened(metric, a == null ? null : a.value,
                a == null ? null : a.threshold, c.sloP95LatencyMs, c.sloMaxEnergyMj);
    }

    /** The alert that caused a loop says how the loop ended when it deployed nothing. */
    private void tellAlert(LoopRunEntity l, String why) {
        if (l.alertId == null) {
            return;
        }
        QuarkusTransaction.requiringNew().run(() -> {
            AlertEntity a = session.find(AlertEntity.class, l.alertId);
            if (a != null) {
                String note = "loop " + l.id + " stopped, nothing deployed: " + why;
                a.actionResult = truncate(a.actionResult == null ? note : a.actionResult + "; " + note);
            }
        });
    }

    private void deploy(LoopRunEntity l, long now) {
        if (!claim(l, now)) {
            return;
        }
        DeploymentView d;
        try {
            d = rollouts.create(new CreateDeploymentRequest(l.modelName, l.resultVersion, l.classId, null, null, null,
                    LoopDecisions.canaryPolicy(config.canarySoakSeconds(), config.canaryMinWindows())));
        } catch (ApiException e) {
            move(l.id, Event.DEPLOY_REFUSED, "the canary deployment was refused: " + e.getMessage(), now, x -> { });
            return;
        }
        move(l.id, Event.DEPLOYED, "canary deployment " + d.id() + " to " + d.summary().pending() + " device(s) in "
                + d.waves().count() + " wave(s), gated by the class SLOs", now, x -> {
                    x.deploymentId = d.id();
                    x.deploymentCreatedAt = now;
                });
    }

    private void watch(LoopRunEntity l, long now) {
        DeploymentView d;
        try {
            d = rollouts.get(l.deploymentId);
        } catch (ApiException e) {
            move(l.id, Event.HALTED, "the canary deployment is gone", now, x -> { });
            return;
        }
        Long canary = l.canaryCommittedAt == null ? canaryCommittedAt(d) : null;
        if (canary != null) {
            update(l.id, x -> {
                x.canaryCommittedAt = canary;
                x.history = appendHistory(x.history, new HistoryEntry(canary, x.state, "every canary device "
                        + "committed the variant"));
            });
        }
        Boolean promoted = LoopDecisions.outcome(d.status().name());
        if (promoted == null) {
            return;
        }
        if (promoted) {
            planner.makeClassVariant(l.planJobId);
            move(l.id, Event.PROMOTED, "deployment " + d.id() + " " + d.status() + ": version " + l.resultVersion
                    + " (" + l.choice + ") is the class's variant now", now, x -> x.outcome = "promoted: deployment "
                    + d.status() + ", " + d.summary().committed() + " device(s) committed");
        } else {
            String why = d.halt() != null ? d.halt().rule() + ": " + d.halt().detail()
                    : String.valueOf(d.rollbackReason());
            move(l.id, Event.HALTED, "deployment " + d.id() + " ended " + d.status() + " (" + why + "); the class "
                    + "keeps version " + l.fromVersion, now, x -> x.outcome = truncate("rolled back: " + why));
            QuarkusTransaction.requiringNew().run(() -> {
                List<LoopState> states = session.createSelectionQuery("select l.state from LoopRunEntity l where "
                        + "l.classId = :c order by l.createdAt desc, l.id desc", LoopState.class)
                        .setParameter("c", l.classId).setMaxResults(100).getResultList();
                int n = LoopDecisions.consecutiveRollbacks(states);
                if (n >= config.maxConsecutiveRollbacks()) {
                    ClassLoopEntity cl = session.find(ClassLoopEntity.class, l.classId);
                    backOff(l.classId, cl != null ? cl.mode : defaultMode(), n + " loop(s) in a row ended rolled back "
                            + "(edgefleet.loop.max-consecutive-rollbacks " + config.maxConsecutiveRollbacks() + ")", now);
                }
            });
        }
    }

    /** When the last of the first wave's targets committed, once all of them did; else null. */
    static Long canaryCommittedAt(DeploymentView d) {
        if (d.targets() == null) {
            return null;
        }
        List<TargetView> canary = d.targets().stream().filter(t -> t.wave() == 1).toList();
        if (canary.isEmpty() || canary.stream().anyMatch(t -> t.state() != TargetState.COMMITTED)) {
            return null;
        }
        return canary.stream().mapToLong(TargetView::updatedAt).max().orElseThrow();
    }

    private void move(String id, Event event, String note, long now, Consumer<LoopRunEntity> change) {
        update(id, l -> {
            LoopState to = LoopDecisions.next(l.state, event).orElseThrow(() -> new IllegalStateException(
                    "loop " + id + ": " + event + " does not apply in " + l.state));
            change.accept(l);
            l.state = to;
            l.history = appendHistory(l.history, new HistoryEntry(now, to, truncate(note)));
            if (to.terminal()) {
                l.finishedAt = now;
            }
            l.updatedAt = now;
            LOG.infof("Loop %s (class %s, model %s): %s: %s", id, l.classId, l.modelName, to, note);
        });
    }

    private void update(String id, Consumer<LoopRunEntity> change) {
        QuarkusTransaction.requiringNew().run(() -> {
            LoopRunEntity l = session.find(LoopRunEntity.class, id);
            if (l != null) {
                change.accept(l);
            }
        });
    }

    // ---------------------------------------------------------------- operator API

    public ClassLoopView mode(String classId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            if (classes.find(classId) == null) {
                throw ApiException.notFound("device class", classId);
            }
            return view(classId, session.find(ClassLoopEntity.class, classId));
        });
    }

    public ClassLoopView setMode(String classId, ClassLoopRequest req) {
        LoopMode mode = LoopMode.parse(req.mode());
        if (mode == null) {
            throw field(ErrorCode.VALIDATION_FAILED, "mode", "must be one of automatic, approve, off (got "
                    + (req.mode() == null ? "nothing" : "'" + req.mode() + "'") + ")");
        }
        return QuarkusTransaction.requiringNew().call(() -> {
            if (classes.find(classId) == null) {
                throw field(ErrorCode.UNKNOWN_DEVICE_CLASS, "id", "device class '" + classId + "' does not exist");
            }
            if (req.freshDataset() != null && datasets.find(req.freshDataset()) == null) {
                throw field(ErrorCode.UNKNOWN_DATASET, "freshDataset", "dataset '" + req.freshDataset()
                        + "' does not exist");
            }
            ClassLoopEntity cl = session.find(ClassLoopEntity.class, classId);
            boolean created = cl == null;
            if (created) {
                cl = new ClassLoopEntity();
                cl.classId = classId;
            }
            cl.mode = mode;
            cl.freshDataset = req.freshDataset();
            // setting the mode is the operator's re-enable after a back-off
            cl.backedOffAt = null;
            cl.backedOffReason = null;
            cl.updatedAt = System.currentTimeMillis();
            if (created) {
                session.persist(cl);
            }
            return view(classId, cl);
        });
    }

    /** Approves a loop awaiting approval; {@code decidedBy} is who did, as the request's principal and way in say. */
    public LoopView approve(String id, String decidedBy) {
        long now = System.currentTimeMillis();
        QuarkusTransaction.requiringNew().run(() -> {
            LoopRunEntity l = require(id);
            if (LoopDecisions.next(l.state, Event.APPROVE).isEmpty()) {
                throw new ApiException(ErrorCode.CONFLICT, "loop '" + id + "' is " + l.state
                        + ", not awaiting approval");
            }
            long running = session.createSelectionQuery("select count(l) from LoopRunEntity l where l.classId = :c "
                    + "and l.state in :s", Long.class).setParameter("c", l.classId)
                    .setParameter("s", List.of(LoopState.READY, LoopState.PLANNING, LoopState.GATED, LoopState.CANARY))
                    .getSingleResult();
            if (running > 0) {
                throw new ApiException(ErrorCode.CONFLICT, "another loop of class '" + l.classId + "' is running; "
                        + "approve this one when it finished");
            }
        });
        move(id, Event.APPROVE, "approved by an operator", now, x -> {
            x.approvedAt = now;
            x.decidedBy = actor(decidedBy);
        });
        return get(id);
    }

    public LoopView reject(String id, String reason, String decidedBy) {
        long now = System.currentTimeMillis();
        QuarkusTransaction.requiringNew().run(() -> {
            LoopRunEntity l = require(id);
            if (LoopDecisions.next(l.state, Event.REJECT).isEmpty()) {
                throw new ApiException(ErrorCode.CONFLICT, "loop '" + id + "' is " + l.state
                        + ", not awaiting approval");
            }
        });
        String why = reason == null || reason.isBlank() ? "rejected by an operator" : "rejected: " + reason;
        move(id, Event.REJECT, why, now, x -> {
            x.decidedBy = actor(decidedBy);
            x.outcome = truncate(why);
        });
        return get(id);
    }

    public LoopView get(String id) {
        return QuarkusTransaction.requiringNew().call(() -> view(require(id)));
    }

    public List<LoopView> list(String classId, String state, int limit) {
        LoopState s = null;
        if (state != null && !state.isBlank()) {
            try {
                s = LoopState.valueOf(state.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw field(ErrorCode.VALIDATION_FAILED, "state", "unknown state '" + state + "'; one of "
                        + java.util.Arrays.toString(LoopState.values()));
            }
        }
        if (limit < 1 || limit > 1000) {
            throw field(ErrorCode.VALIDATION_FAILED, "limit", "must be between 1 and 1000");
        }
        LoopState filter = s;
        return QuarkusTransaction.requiringNew().call(() -> {
            var q = session.createSelectionQuery("from LoopRunEntity l where 1 = 1"
                    + (classId == null ? "" : " and l.classId = :c") + (filter == null ? "" : " and l.state = :s")
                    + " order by l.createdAt desc, l.id desc", LoopRunEntity.class).setMaxResults(limit);
            if (classId != null) {
                q.setParameter("c", classId);
            }
            if (filter != null) {
                q.setParameter("s", filter);
            }
            return q.getResultStream().map(this::view).toList();
        });
    }

    private LoopRunEntity require(String id) {
        LoopRunEntity l = session.find(LoopRunEntity.class, id);
        if (l == null) {
            throw ApiException.notFound("loop", id);
        }
        return l;
    }

    private ClassLoopView view(String classId, ClassLoopEntity cl) {
        return cl == null ? new ClassLoopView(classId, defaultMode().label(), false, null, null, null, null)
                : new ClassLoopView(classId, cl.mode.label(), true, cl.freshDataset, cl.backedOffAt, cl.backedOffReason,
                cl.updatedAt);
    }

    private LoopView view(LoopRunEntity l) {
        Long toCanary = l.alertFiredAt != null && l.canaryCommittedAt != null ? l.canaryCommittedAt - l.alertFiredAt
                : null;
        return new LoopView(l.id, l.classId, l.modelName, l.baseVersion, l.fromVersion, l.fromCandidate, l.alertId,
                l.ruleId, l.requestId, l.metric, l.alertFiredAt, l.mode, l.strategy, l.state, l.reason,
                l.calibrationDataset, l.candidates == null ? null : read(l.candidates, STRINGS), l.planJobId,
                l.resultVersion, l.choice, l.deploymentId, l.outcome, l.decidedBy, read(l.history, HISTORY),
                l.createdAt, l.approvedAt, l.planSubmittedAt, l.planFinishedAt, l.deploymentCreatedAt,
                l.canaryCommittedAt, l.finishedAt, toCanary);
    }

    private static ApiException field(ErrorCode code, String field, String reason) {
        return new ApiException(code, field + ": " + reason, List.of(new ApiError.FieldError(field, reason)), null);
    }

    // ---------------------------------------------------------------- JSON

    private String history(List<HistoryEntry> h) {
        return toJson(h);
    }

    private String appendHistory(String stored, HistoryEntry e) {
        List<HistoryEntry> h = new ArrayList<>(stored == null ? List.of() : read(stored, HISTORY));
        h.add(e);
        return toJson(h);
    }

    private <T> T read(String s, TypeReference<T> type) {
        try {
            return json.readValue(s, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is not readable: " + e.getMessage(), e);
        }
    }

    private JsonNode readTree(String s) {
        try {
            return json.readTree(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is not readable: " + e.getMessage(), e);
        }
    }

    private String toJson(Object o) {
        try {
            return json.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Who decided, within its column (VARCHAR(200)). */
    private static String actor(String decidedBy) {
        return decidedBy == null || decidedBy.length() <= 200 ? decidedBy : decidedBy.substring(0, 200);
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 1000 ? s : s.substring(0, 997) + "...";
    }
}
