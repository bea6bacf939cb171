package io.edgefleet.server.loop;

import io.edgefleet.engine.pipeline.RecipeRegistry;
import io.edgefleet.engine.planner.Candidate;
import io.edgefleet.server.alert.AlertMetric;
import io.edgefleet.server.rollout.RolloutPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The closed loop's rules, in plain Java: whether an alert starts a loop and with which strategy ({@link #admit}),
 * how a loop moves ({@link #next}), which candidates a re-plan searches ({@link #candidates}) and the canary policy
 * its variant goes out with ({@link #canaryPolicy}). {@code LoopDecisionsTest} is the table of all of them.
 */
public final class LoopDecisions {
    private LoopDecisions() {
    }

    /**
     * What the guardrails know when an alert asks for a re-plan.
     *
     * @param metric                 the metric of the alert's rule
     * @param mode                   the class's switch
     * @param backedOff              the class backed off after repeated rollbacks and was not re-enabled since
     * @param hasVariant             the model has a registered variant for the class (a re-plan starts from it)
     * @param loopRunning            a loop of this class is past approval and not finished
     * @param lastStartedAt          when the class's newest loop that did work started (null: never)
     * @param consecutiveRollbacks   the class's newest finished loops that ended ROLLED_BACK, in a row
     * @param hasFreshData           captured data or the operator's fresh dataset exists for recalibration
     */
    public record Admission(AlertMetric metric, LoopMode mode, boolean backedOff, boolean hasVariant,
            boolean loopRunning, Long lastStartedAt, long cooldownMs, int consecutiveRollbacks,
            int maxConsecutiveRollbacks, boolean hasFreshData, long now) {
    }

    public enum Verdict { START, AWAIT_APPROVAL, SKIP, BACK_OFF }

    /** @param strategy null unless the verdict starts or awaits a loop */
    public record Decision(Verdict verdict, LoopStrategy strategy, String reason) {
        /** The state a loop is recorded in. */
        public LoopState state() {
            return switch (verdict) {
                case START -> LoopState.READY;
                case AWAIT_APPROVAL -> LoopState.AWAITING_APPROVAL;
                case SKIP -> LoopState.SKIPPED;
                case BACK_OFF -> LoopState.BACKED_OFF;
            };
        }
    }

    /** The strategy an alert on this metric asks for; null when the metric is no model's doing. */
    public static LoopStrategy strategy(AlertMetric metric, boolean hasFreshData) {
        return switch (metric) {
            case P95_LATENCY_MS, ENERGY_MJ_PER_INFERENCE -> LoopStrategy.AGGRESSIVE;
            case DRIFT_SCORE, ERROR_RATE -> hasFreshData ? LoopStrategy.RECALIBRATE : LoopStrategy.GENTLER;
            case OFFLINE_SHARE, ROLLBACK_RATE -> null;
        };
    }

    /** Guardrails first (switch, back-off, cooldown, one loop at a time), then the strategy the metric asks for. */
    public static Decision admit(Admission a) {
        if (a.mode() == LoopMode.OFF) {
            return new Decision(Verdict.SKIP, null, "the class's loop mode is off");
        }
        if (a.backedOff()) {
            return new Decision(Verdict.SKIP, null, "the class backed off after repeated rollbacks; an operator "
                    + "re-enables it with PUT /api/v1/device-classes/{id}/loop");
        }
        if (a.metric() == AlertMetric.ROLLBACK_RATE) {
            return new Decision(Verdict.BACK_OFF, null, "rollback rate alert: the class's variants keep being rolled "
                    + "back; no new loop until an operator re-enables it");
        }
        if (a.consecutiveRollbacks() >= a.maxConsecutiveRollbacks()) {
            return new Decision(Verdict.BACK_OFF, null, "the class's last " + a.consecutiveRollbacks()
                    + " loop(s) ended rolled back (limit " + a.maxConsecutiveRollbacks()
                    + ", edgefleet.loop.max-consecutive-rollbacks); no new loop until an operator re-enables it");
        }
        LoopStrategy s = strategy(a.metric(), a.hasFreshData());
        if (s == null) {
            return new Decision(Verdict.SKIP, null, a.metric() + " is not a model's doing; nothing to re-plan");
        }
        if (!a.hasVariant()) {
            return new Decision(Verdict.SKIP, null, "the model has no registered variant for the class; plan it "
                    + "first (POST /api/v1/models/{name}/versions/{v}/plans)");
        }
        if (a.loopRunning()) {
            return new Decision(Verdict.SKIP, null, "a loop of this class is still running");
        }
        if (a.lastStartedAt() != null && a.now() - a.lastStartedAt() < a.cooldownMs()) {
            return new Decision(Verdict.SKIP, null, String.format(Locale.ROOT, "cooldown: the class's last loop "
                    + "started %d s ago, the cooldown is %d s (edgefleet.loop.cooldown)",
                    (a.now() - a.lastStartedAt()) / 1000, a.cooldownMs() / 1000));
        }
        String why = switch (s) {
            case AGGRESSIVE -> a.metric() + " breach: re-plan for a more aggressive variant, every other candidate "
                    + "against the SLO tightened by how far over it the devices measured";
            case RECALIBRATE -> a.metric() + " breach: recalibrate the current recipe (or a gentler one) on fresh data";
            case GENTLER -> a.metric() + " breach without fresh data: re-plan with candidates gentler than the current "
                    + "variant";
        };
        return a.mode() == LoopMode.APPROVE ? new Decision(Verdict.AWAIT_APPROVAL, s, why + "; awaiting approval")
                : new Decision(Verdict.START, s, why);
    }

    /** What happens to a loop. */
    public enum Event {
        APPROVE, REJECT, NOTHING_TO_TRY, SUBMITTED, PLAN_CHOSEN, PLAN_NO_CHOICE, PLAN_FAILED, DEPLOYED, DEPLOY_REFUSED,
        PROMOTED, HALTED
    }

    /** The next state, or empty when the event does not apply in this state (an approve of a finished loop: 409). */
    public static Optional<LoopState> next(LoopState state, Event event) {
        LoopState to = switch (state) {
            case AWAITING_APPROVAL -> switch (event) {
                case APPROVE -> LoopState.READY;
                case REJECT -> LoopState.REJECTED;
                default -> null;
            };
            case READY -> switch (event) {
                case SUBMITTED -> LoopState.PLANNING;
                case NOTHING_TO_TRY -> LoopState.NO_CHOICE;
                case PLAN_FAILED -> LoopState.FAILED;
                default -> null;
            };
            case PLANNING -> switch (event) {
                case PLAN_CHOSEN -> LoopState.GATED;
                case PLAN_NO_CHOICE -> LoopState.NO_CHOICE;
                case PLAN_FAILED -> LoopState.FAILED;
                default -> null;
            };
            case GATED -> switch (event) {
                case DEPLOYED -> LoopState.CANARY;
                case DEPLOY_REFUSED -> LoopState.FAILED;
                default -> null;
            };
            case CANARY -> switch (event) {
                case PROMOTED -> LoopState.PROMOTED;
                case HALTED -> LoopState.ROLLED_BACK;
                default -> null;
            };
            default -> null;
        };
        return Optional.ofNullable(to);
    }

    /**
     * The re-plan's search space, taken from the class's grid (gentlest first, as {@code CandidateGenerator} orders
     * it) relative to the current variant's candidate id: AGGRESSIVE every candidate but the current one (what is
     * "more aggressive" is decided by the {@link #tightened tightened target} the plan must meet, not by the grid's
     * order), RECALIBRATE the ones up to and including it, GENTLER the ones before it. A current variant the grid does
     * not contain (an operator's own recipe) is unplaced: AGGRESSIVE then takes every candidate but the float model,
     * the others the whole grid. An empty list means nothing is left to try.
     */
    public static List<Candidate> candidates(LoopStrategy s, List<Candidate> grid, String currentId) {
        int at = -1;
        for (int i = 0; i < grid.size(); i++) {
            if (grid.get(i).id().equals(currentId)) {
                at = i;
                break;
            }
        }
        if (at < 0) {
            return s == LoopStrategy.AGGRESSIVE
                    ? grid.stream().filter(c -> !c.recipe().equals(RecipeRegistry.IDENTITY)).toList()
                    : List.copyOf(grid);
        }
        return switch (s) {
            case AGGRESSIVE -> grid.stream().filter(c -> !c.id().equals(currentId)).toList();
            case RECALIBRATE -> List.copyOf(grid.subList(0, at + 1));
            case GENTLER -> List.copyOf(grid.subList(0, at));
        };
    }

    /**
     * The SLO target of an AGGRESSIVE re-plan. The breach measured on devices says how far over its limit the class's
     * variant runs: {@code factor = measured / limit}, the limit being the class's SLO of the alert's metric (the
     * rule's threshold when the class sets none, e.g. no energy SLO). The planner's limit for that metric becomes
     * {@code limit / factor}, so a candidate whose estimate (the class's fitted cost model, else its declared profile)
     * meets it would have met the SLO on the devices by the same margin. The other SLO keeps the class's value (null).
     * A measurement at or under the limit (a rule warning before the SLO) or none leaves the factor at 1: the re-plan
     * must then meet the SLO itself with another candidate.
     *
     * @param factor how many times over its limit the devices measured (>= 1)
     * @param p95LatencyMs the plan's p95 limit, null: the class's
     * @param maxEnergyMj the plan's energy limit, null: the class's
     * @param reason what the plan must meet and why, for the loop's audit trail
     */
    public record Target(double factor, Double p95LatencyMs, Double maxEnergyMj, String reason) {
    }

    /**
     * @param measured the alert's value (the devices' p95 in ms, or energy per inference in mJ); null when unknown
     * @param threshold the alert rule's threshold, used when the class sets no SLO for the metric
     * @return null for a metric that is not a latency or energy breach, or when no limit is known
     */
    public static Target tightened(AlertMetric metric, Double measured, Double threshold, double sloP95LatencyMs,
            Double sloMaxEnergyMj) {
        boolean latency = metric == AlertMetric.P95_LATENCY_MS;
        if (!latency && metric != AlertMetric.ENERGY_MJ_PER_INFERENCE) {
            return null;
        }
        Double slo = latency ? Double.valueOf(sloP95LatencyMs) : sloMaxEnergyMj;
        Double limit = slo != null ? slo : threshold;
        if (limit == null || !(limit > 0)) {
            return null;
        }
        String what = latency ? "p95 latency" : "energy per inference";
        String unit = latency ? "ms" : "mJ";
        String source = slo != null ? "the class's SLO" : "the rule's threshold (the class sets no energy SLO)";
        double factor = measured != null && measured > limit ? measured / limit : 1.0;
        double to = limit / factor;
        String reason = factor > 1
                ? "devices measured " + what + " " + num(measured) + " " + unit + ", " + num(factor) + "x " + source
                        + " of " + num(limit) + " " + unit + ": the re-plan's limit is " + num(to) + " " + unit
                : "devices measured " + what + " " + (measured == null ? "(unknown)" : num(measured) + " " + unit)
                        + ", not over " + source + " of " + num(limit) + " " + unit + ": the re-plan must meet "
                        + num(to) + " " + unit + " with another candidate";
        return latency ? new Target(factor, to, null, reason) : new Target(factor, null, to, reason);
    }

    /**
     * The canary a loop's variant goes out with: one device first, then half of the class per wave, each wave soaking
     * {@code soakSeconds} under the class SLO gates (p95 latency, energy per inference) and the default error-rate
     * gate with at least {@code minWindows} telemetry windows; the default abort rule halts and rolls back.
     */
    public static RolloutPolicy canaryPolicy(long soakSeconds, int minWindows) {
        return new RolloutPolicy(new RolloutPolicy.Canary(1, null), new RolloutPolicy.Batches(null, 50.0, null, null),
                soakSeconds, new RolloutPolicy.SuccessCondition(null),
                new RolloutPolicy.Gates(true, null, true, null, null, minWindows), null, null);
    }

    /** A deployment status the loop reads as promoted (true), rolled back (false) or still running (null). */
    public static Boolean outcome(String deploymentStatus) {
        return switch (deploymentStatus) {
            case "COMPLETED", "PARTIAL" -> Boolean.TRUE;
            case "ABORTED", "ROLLED_BACK", "FAILED", "TIMED_OUT" -> Boolean.FALSE;
            default -> null;
        };
    }

    /** Newest first: how many finished, started loops in a row ended ROLLED_BACK. */
    public static int consecutiveRollbacks(List<LoopState> newestFirst) {
        int n = 0;
        for (LoopState s : newestFirst) {
            if (!s.terminal() || !s.started()) {
                continue;
            }
            if (s != LoopState.ROLLED_BACK) {
                break;
            }
            n++;
        }
        return n;
    }

    /** Three significant digits, no trailing zeros: 2, 1.25, 66.7. */
    static String num(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
    }

    /** For the docs and the table test: the names of a list of candidates. */
    static List<String> ids(List<Candidate> cs) {
        List<String> out = new ArrayList<>();
        cs.forEach(c -> out.add(c.id()));
        return out;
    }
}
