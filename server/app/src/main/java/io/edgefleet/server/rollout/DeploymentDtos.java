package io.edgefleet.server.rollout;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** JSON shapes of the deployment API. */
public final class DeploymentDtos {
    private DeploymentDtos() {
    }

    /**
     * The target is {@code classId} (optionally narrowed by {@code tags}), {@code tags} alone, or {@code deviceIds}.
     * Without {@code policy} the deployment goes out in waves with the defaults of docs/rollouts.md (a canary
     * first); a policy's fields left out take the same defaults; {@code {"allAtOnce": true}} sends every target at
     * once with no gates and no halt rule.
     */
    public record CreateDeploymentRequest(
            @NotBlank String model,
            @NotNull @Positive Long version,
            String classId,
            @Size(max = 10_000) List<@NotBlank String> deviceIds,
            @Valid HealthRequest health,
            @Size(max = 20) List<@NotBlank @Size(max = 64) String> tags,
            RolloutPolicy policy) {

        /** The shape before waves, kept for callers that build requests in code. */
        public CreateDeploymentRequest(String model, Long version, String classId, List<String> deviceIds,
                                       HealthRequest health) {
            this(model, version, classId, deviceIds, health, null, null);
        }
    }

    /** Any field left out is taken from the target's device class SLO or the defaults. */
    public record HealthRequest(
            @DecimalMin("0") Double maxP95LatencyMs,
            @DecimalMin("0") @DecimalMax("1") Double maxErrorRate,
            @Min(1) @Max(1000) Integer windows,
            @Min(0) Integer minInferences) {
    }

    /** maxP95LatencyMs is null when each target uses its own class's SLO. */
    public record HealthView(Double maxP95LatencyMs, double maxErrorRate, int windows, int minInferences) {
    }

    public record TargetView(String deviceId, String classId, TargetState state, String reason, String detail,
                             Long sentAt, long updatedAt, int wave) {
        static TargetView of(DeploymentTargetEntity t) {
            return new TargetView(t.deviceId, t.classId, t.state, t.reason, t.detail, t.sentAt, t.updatedAt, t.wave);
        }
    }

    public record Summary(int pending, int inProgress, int committed, int rolledBack, int failed, int timedOut,
                          int cancelled) {
        static Summary of(Map<TargetState, Long> counts) {
            return new Summary(
                    (int) (counts.getOrDefault(TargetState.PENDING, 0L) + counts.getOrDefault(TargetState.SENT, 0L)),
                    (int) (counts.getOrDefault(TargetState.DOWNLOADING, 0L) + counts.getOrDefault(TargetState.ACTIVATED, 0L)),
                    (int) (long) counts.getOrDefault(TargetState.COMMITTED, 0L),
                    (int) (long) counts.getOrDefault(TargetState.ROLLED_BACK, 0L),
                    (int) (long) counts.getOrDefault(TargetState.FAILED, 0L),
                    (int) (long) counts.getOrDefault(TargetState.TIMED_OUT, 0L),
                    (int) (long) counts.getOrDefault(TargetState.CANCELLED, 0L));
        }

        static Summary of(List<DeploymentTargetEntity> targets) {
            Map<TargetState, Long> counts = new EnumMap<>(TargetState.class);
            for (DeploymentTargetEntity t : targets) {
                counts.merge(t.state, 1L, Long::sum);
            }
            return of(counts);
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DeploymentView(
            String id,
            String model,
            long version,
            String sha256,
            long size,
            String classId,
            DeploymentStatus status,
            HealthView health,
            String rollbackReason,
            long createdAt,
            long updatedAt,
            List<TargetView> targets,
            Summary summary,
            List<String> tags,
            RolloutPolicy policy,
            WavesView waves,
            HaltView halt,
            Object gates,
            Long endedAt) {

        /** With every target, the per-wave tally and the policy. */
        static DeploymentView of(DeploymentEntity d, List<DeploymentTargetEntity> targets, WaveMachine.Progress progress,
                                 RolloutPolicy policy) {
            List<WaveView> perWave = new java.util.ArrayList<>();
            for (int w = 1; w <= d.waveCount; w++) {
                WaveMachine.Tally t = progress.wave(w);
                perWave.add(new WaveView(w, t.total() + t.superseded(), t.pending(), t.inFlight(), t.committed(),
                        t.rolledBack(), t.failed() + t.superseded(), t.timedOut(), t.cancelled()));
            }
            WavesView waves = new WavesView(d.waveCurrent, d.waveCount, d.status.terminal() ? null : d.wavePhase,
                    d.waveStartedAt, d.soakStartedAt, d.pausedAt, perWave);
            return of(d, targets.stream().map(TargetView::of).toList(), Summary.of(targets), d.policy == null ? null : policy,
                    waves);
        }

        /** Summary only, for listings. */
        static DeploymentView of(DeploymentEntity d, Map<TargetState, Long> counts) {
            return of(d, null, Summary.of(counts), null, new WavesView(d.waveCurrent, d.waveCount,
                    d.status.terminal() ? null : d.wavePhase, d.waveStartedAt, d.soakStartedAt, d.pausedAt, null));
        }

        private static DeploymentView of(DeploymentEntity d, List<TargetView> targets, Summary summary,
                                         RolloutPolicy policy, WavesView waves) {
            HaltView halt = d.haltRule == null ? null
                    : new HaltView(d.haltRule, d.haltDetail, WaveDriver.fromJson(d.haltDevices, Object.class));
            return new DeploymentView(d.id, d.modelName, d.modelVersion, d.sha256, d.size, d.targetClassId, d.status,
                    new HealthView(d.healthMaxP95LatencyMs, d.healthMaxErrorRate, d.healthWindows, d.healthMinInferences),
                    d.rollbackReason, d.createdAt, d.updatedAt, targets, summary,
                    d.targetTags == null ? null : List.of(d.targetTags.split(",")), policy, waves, halt,
                    WaveDriver.fromJson(d.gateResults, Object.class), d.endedAt);
        }
    }

    /** Where the deployment is: wave {@code current} of {@code count}; phase DEPLOYING, SOAKING or GATING while running. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record WavesView(int current, int count, WaveMachine.Phase phase, Long startedAt, Long soakStartedAt,
                            Long pausedAt, List<WaveView> waves) {
    }

    public record WaveView(int wave, long size, long pending, long inProgress, long committed, long rolledBack,
                           long failed, long timedOut, long cancelled) {
    }

    /** Why a deployment halted: the rule, its numbers, and the devices sent back or stopped. */
    public record HaltView(String rule, String detail, Object devices) {
    }

    public record AbortRequest(@Size(max = 1000) String reason) {
    }

    public record RollbackRequest(@Size(max = 1000) String reason) {
    }

    public record SentCommand(String deviceId, String commandId) {
    }

    /** What a deployment rollback did: commands sent to devices running it, targets stopped before activation. */
    public record RollbackResult(String deploymentId, String reason, List<SentCommand> sent, List<String> cancelled) {
    }

    public record DeviceRollbackResult(String deviceId, String deploymentId, String commandId, String reason) {
    }
}
