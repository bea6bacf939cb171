package io.edgefleet.server.rollout;

import io.edgefleet.protocol.DeviceEvent;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * The rollout state machine in plain Java: how a device event moves a target, and what the
 * targets add up to. Transitions only go forward; a late or repeated event is ignored, never
 * applied out of order.
 */
public final class RolloutRules {
    private RolloutRules() {
    }

    /** The state an event moves a target to, or empty when the event does not change it. */
    public static Optional<TargetState> next(TargetState current, DeviceEvent.Type event) {
        TargetState next = switch (event) {
            case DEPLOY_RECEIVED, DOWNLOAD_PROGRESS, DOWNLOADED, VERIFIED ->
                    current == TargetState.PENDING || current == TargetState.SENT ? TargetState.DOWNLOADING : null;
            // A device that answers after its target timed out runs the model all the same: follow it.
            case ACTIVATED -> current.ordinal() < TargetState.ACTIVATED.ordinal() || current == TargetState.TIMED_OUT
                    ? TargetState.ACTIVATED : null;
            // A lost ACTIVATED event must not block the commit from counting.
            case COMMITTED -> current.ordinal() < TargetState.COMMITTED.ordinal() || current == TargetState.TIMED_OUT
                    ? TargetState.COMMITTED : null;
            // Rolling back is possible after a commit too (operator request, a later health breach).
            case ROLLED_BACK -> !current.terminal() || current == TargetState.COMMITTED || current == TargetState.TIMED_OUT
                    ? TargetState.ROLLED_BACK : null;
            case DEPLOY_FAILED -> !current.terminal() ? TargetState.FAILED : null;
            // A rejected deploy fails the target; a rejected rollback of a running model leaves it as it is.
            case COMMAND_REJECTED -> !current.terminal() && !current.rollbackApplies() ? TargetState.FAILED : null;
            // A model switching to or from its light fallback is the device's business, not the rollout's.
            case MODE_CHANGED -> null;
        };
        return Optional.ofNullable(next);
    }

    public static DeploymentStatus status(Collection<TargetState> states, boolean rollbackRequested) {
        Map<TargetState, Long> counts = new EnumMap<>(TargetState.class);
        for (TargetState s : states) {
            counts.merge(s, 1L, Long::sum);
        }
        return status(counts, rollbackRequested);
    }

    /** The same from per-state counts, which a database can compute without loading every target. */
    public static DeploymentStatus status(Map<TargetState, Long> counts, boolean rollbackRequested) {
        if (rollbackRequested) {
            return DeploymentStatus.ROLLED_BACK;
        }
        long total = 0;
        for (Map.Entry<TargetState, Long> e : counts.entrySet()) {
            if (!e.getKey().terminal() && e.getValue() > 0) {
                return DeploymentStatus.IN_PROGRESS;
            }
            total += e.getValue();
        }
        long committed = counts.getOrDefault(TargetState.COMMITTED, 0L);
        if (committed == total) {
            return DeploymentStatus.COMPLETED;
        }
        if (committed > 0) {
            return DeploymentStatus.PARTIAL;
        }
        if (counts.getOrDefault(TargetState.ROLLED_BACK, 0L) > 0) {
            return DeploymentStatus.ROLLED_BACK;
        }
        return counts.getOrDefault(TargetState.TIMED_OUT, 0L) > 0 ? DeploymentStatus.TIMED_OUT : DeploymentStatus.FAILED;
    }
}
