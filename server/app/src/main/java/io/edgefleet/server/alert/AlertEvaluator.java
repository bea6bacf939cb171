package io.edgefleet.server.alert;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The alert lifecycle in plain Java: given what a rule observes now and the alerts it has open,
 * the transitions to make. One open alert per (rule, labels) at most: the fingerprint of the labels
 * is the de-duplication key.
 *
 * <ul>
 *   <li>breached, nothing open: PENDING (FIRING at once when the rule's for-duration is 0);</li>
 *   <li>breached, PENDING for at least the for-duration: FIRING;</li>
 *   <li>breached, already PENDING (not long enough): nothing;</li>
 *   <li>breached, FIRING: nothing, or REPEAT once the last notification is at least the repeat interval old
 *       (Alertmanager's {@code repeat_interval}; 0: never);</li>
 *   <li>not breached or no data (the group is gone, too few samples): PENDING is dropped (it never
 *       fired, so there is nothing to resolve), FIRING becomes RESOLVED.</li>
 * </ul>
 */
public final class AlertEvaluator {
    private AlertEvaluator() {
    }

    /** One group's figure against its threshold (scope labels: class, model, version, device as evaluated). */
    public record Observation(Map<String, String> scopeLabels, double value, double threshold) {
        public boolean breached() {
            return value > threshold;
        }
    }

    /** An alert as stored while it is open; {@code notifiedAt}: when receivers were last told it fires (null: never). */
    public record Open(String fingerprint, AlertState state, long activeAt, Long notifiedAt) {
        public Open(String fingerprint, AlertState state, long activeAt) {
            this(fingerprint, state, activeAt, null);
        }
    }

    public enum Change {
        /** A new alert, waiting for the for-duration. */
        PENDING,
        /** Starts firing: notify, run the rule's action. */
        FIRING,
        /** Still firing, last notified a repeat interval ago or more: notify again (no action). */
        REPEAT,
        /** Was firing, the condition no longer holds: notify. */
        RESOLVED,
        /** Was pending, the condition went away before it fired: forget it. */
        DROPPED
    }

    /**
     * @param labels     every label of the alert
     * @param activeAt   when the condition started to hold (kept from the pending alert)
     * @param value      the observed value, null when the group has no data
     */
    public record Transition(Change change, String fingerprint, Map<String, String> labels, Double value,
            Double threshold, long activeAt) {
    }

    /** Without re-notification. */
    public static List<Transition> evaluate(AlertRule rule, Collection<Observation> observations,
            Collection<Open> open, long now) {
        return evaluate(rule, observations, open, now, 0);
    }

    /** @param repeatMillis a firing alert is notified again this long after its last notification; 0: never */
    public static List<Transition> evaluate(AlertRule rule, Collection<Observation> observations,
            Collection<Open> open, long now, long repeatMillis) {
        Map<String, Open> openByFingerprint = new HashMap<>();
        open.forEach(o -> openByFingerprint.put(o.fingerprint(), o));
        List<Transition> out = new ArrayList<>();
        Set<String> breached = new HashSet<>();
        long forMs = rule.enabled() ? rule.forSeconds() * 1000 : 0;
        for (Observation obs : rule.enabled() ? observations : List.<Observation>of()) {
            if (!obs.breached()) {
                continue;
            }
            Map<String, String> labels = AlertLabels.of(rule, obs.scopeLabels());
            String fp = AlertLabels.fingerprint(labels);
            if (!breached.add(fp)) {
                continue;
            }
            Open current = openByFingerprint.get(fp);
            if (current == null) {
                Change c = forMs == 0 ? Change.FIRING : Change.PENDING;
                out.add(new Transition(c, fp, labels, obs.value(), obs.threshold(), now));
            } else if (current.state() == AlertState.PENDING && now - current.activeAt() >= forMs) {
                out.add(new Transition(Change.FIRING, fp, labels, obs.value(), obs.threshold(), current.activeAt()));
            } else if (current.state() == AlertState.FIRING && repeatMillis > 0 && current.notifiedAt() != null
                    && now - current.notifiedAt() >= repeatMillis) {
                out.add(new Transition(Change.REPEAT, fp, labels, obs.value(), obs.threshold(), current.activeAt()));
            }
        }
        for (Open o : open) {
            if (breached.contains(o.fingerprint())) {
                continue;
            }
            Change c = o.state() == AlertState.FIRING ? Change.RESOLVED : Change.DROPPED;
            out.add(new Transition(c, o.fingerprint(), null, null, null, o.activeAt()));
        }
        return out;
    }
}
