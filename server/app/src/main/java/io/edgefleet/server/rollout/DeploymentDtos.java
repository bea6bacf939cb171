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
import org.eclipse.microprofile.openapi.annotations.media.Schema;

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
    @Schema(description = "A deployment of one model version to a set of devices: a class (optionally narrowed "
            + "by tags), tags alone, or device ids.")
    public record CreateDeploymentRequest(
            @Schema(description = "Model name.")
            @NotBlank String model,
            @Schema(description = "Model version (> 0).")
            @NotNull @Positive Long version,
            @Schema(description = "Target every device of this class (narrowed by tags when given).")
            String classId,
            @Schema(description = "Target exactly these devices, at most 10000.")
            @Size(max = 10_000) List<@NotBlank String> deviceIds,
            @Schema(description = "Health check a device must pass before it commits; fields left out come from "
                    + "the class SLO or the defaults.")
            @Valid HealthRequest health,
            @Schema(description = "Target the devices carrying all these tags (within classId when given), at "
                    + "most 20.")
            @Size(max = 20) List<@NotBlank @Size(max = 64) String> tags,
            @Schema(description = "How the deployment advances (canary, batches, soak, gates, abort rule); "
                    + "docs/rollouts.md gives the defaults and what a request without a policy "
                    + "does.")
            RolloutPolicy policy,
            @Schema(description = "A lighter variant of the same model the devices keep beside it and switch to under "
                    + "pressure (docs/degradation.md): a version derived from the same base that passed its gate, "
                    + "smaller than the main one and not slower by the plan's numbers.")
            @Valid FallbackRequest fallback) {

        /** The shape before waves, kept for callers that build requests in code. */
        public CreateDeploymentRequest(String model, Long version, String classId, List<String> deviceIds,
                                       HealthRequest health) {
            this(model, version, classId, deviceIds, health, null, null, null);
        }

        /** The shape before fallbacks. */
        public CreateDeploymentRequest(String model, Long version, String classId, List<String> deviceIds,
                                       HealthRequest health, List<String> tags, RolloutPolicy policy) {
            this(model, version, classId, deviceIds, health, tags, policy, null);
        }
    }

    /** The light fallback a deployment ships: a version of the same model. */
    @Schema(description = "A light fallback variant: a version of the deployment's model.")
    public record FallbackRequest(
            @Schema(description = "Version of the same model (> 0).")
            @NotNull @Positive Long version) {
    }

    /** The fallback a deployment ships, as the API shows it. */
    @Schema(description = "The light fallback the deployment ships beside its model.")
    public record FallbackView(
            @Schema(description = "Fallback version of the same model.")
            long version,
            @Schema(description = "SHA-256 of its artifact.")
            String sha256,
            @Schema(description = "Its size in bytes.")
            long size) {
    }

    /** Any field left out is taken from the target's device class SLO or the defaults. */
    @Schema(description = "Health check a device runs on the new model before committing it.")
    public record HealthRequest(
            @Schema(description = "Largest p95 latency, ms; default the class SLO.")
            @DecimalMin("0") Double maxP95LatencyMs,
            @Schema(description = "Largest error rate, 0..1.")
            @DecimalMin("0") @DecimalMax("1") Double maxErrorRate,
            @Schema(description = "Telemetry windows the check covers, 1..1000.")
            @Min(1) @Max(1000) Integer windows,
            @Schema(description = "Fewest inferences for the check to count (>= 0).")
            @Min(0) Integer minInferences) {
    }

    /** maxP95LatencyMs is null when each target uses its own class's SLO. */
    @Schema(description = "The health check in force.")
    public record HealthView(
            @Schema(description = "Largest p95 latency, ms; null when each target uses its own class SLO.")
            Double maxP95LatencyMs,
            @Schema(description = "Largest error rate, 0..1.")
            double maxErrorRate,
            @Schema(description = "Telemetry windows the check covers.")
            int windows,
            @Schema(description = "Fewest inferences for the check to count.")
            int minInferences) {
    }

    @Schema(description = "One device in one deployment.")
    public record TargetView(
            @Schema(description = "Device id.")
            String deviceId,
            @Schema(description = "Its device class.")
            String classId,
            @Schema(description = "Where it stands: PENDING, SENT, DOWNLOADING, ACTIVATED, COMMITTED, "
                    + "ROLLED_BACK, FAILED, TIMED_OUT or CANCELLED.")
            TargetState state,
            @Schema(description = "Reason code of a failure or rollback (docs/protocol.md).")
            String reason,
            @Schema(description = "Human-readable detail.")
            String detail,
            @Schema(description = "When its command was sent, epoch milliseconds; null while PENDING.")
            Long sentAt,
            @Schema(description = "Last change, epoch milliseconds.")
            long updatedAt,
            @Schema(description = "The wave it belongs to, from 1.")
            int wave) {
        static TargetView of(DeploymentTargetEntity t) {
            return new TargetView(t.deviceId, t.classId, t.state, t.reason, t.detail, t.sentAt, t.updatedAt, t.wave);
        }
    }

    @Schema(name = "DeploymentSummary", description = "How many targets are in each group of states.")
    public record Summary(
            @Schema(description = "PENDING or SENT.")
            int pending,
            @Schema(description = "DOWNLOADING or ACTIVATED.")
            int inProgress,
            @Schema(description = "COMMITTED.")
            int committed,
            @Schema(description = "ROLLED_BACK.")
            int rolledBack,
            @Schema(description = "FAILED.")
            int failed,
            @Schema(description = "TIMED_OUT.")
            int timedOut,
            @Schema(description = "CANCELLED.")
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

    @Schema(description = "A deployment: what goes where, how far it got, and why it stopped if it did.")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DeploymentView(
            @Schema(description = "Deployment id.")
            String id,
            @Schema(description = "Model name.")
            String model,
            @Schema(description = "Model version.")
            long version,
            @Schema(description = "SHA-256 of the artifact.")
            String sha256,
            @Schema(description = "Artifact size in bytes.")
            long size,
            @Schema(description = "Target class, if the target was a class.")
            String classId,
            @Schema(description = "IN_PROGRESS, PAUSED, COMPLETED, PARTIAL, ROLLED_BACK, FAILED, TIMED_OUT or "
                    + "ABORTED.")
            DeploymentStatus status,
            @Schema(description = "The health check in force.")
            HealthView health,
            @Schema(description = "Why it was rolled back or aborted; null otherwise.")
            String rollbackReason,
            @Schema(description = "Creation time, epoch milliseconds.")
            long createdAt,
            @Schema(description = "Last change, epoch milliseconds.")
            long updatedAt,
            @Schema(description = "Every target (GET of one deployment only; lists leave it out; pages: "
                    + "/targets).")
            List<TargetView> targets,
            @Schema(description = "Targets per state group.")
            Summary summary,
            @Schema(description = "Target tags, if the target was by tags.")
            List<String> tags,
            @Schema(description = "The resolved rollout policy (GET of one deployment only).")
            RolloutPolicy policy,
            @Schema(description = "Wave progress.")
            WavesView waves,
            @Schema(description = "Why it halted itself; null unless it did.")
            HaltView halt,
            @Schema(description = "The telemetry gate results per wave (JSON object); null without gates.", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.OBJECT)
            Object gates,
            @Schema(description = "When it reached its final status, epoch milliseconds; null while running.")
            Long endedAt,
            @Schema(description = "The light fallback shipped beside the model; null: none.")
            FallbackView fallback) {

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
                    WaveDriver.fromJson(d.gateResults, Object.class), d.endedAt,
                    d.fallbackVersion == null ? null : new FallbackView(d.fallbackVersion, d.fallbackSha256,
                            d.fallbackSize == null ? 0 : d.fallbackSize));
        }
    }

    /** Where the deployment is: wave {@code current} of {@code count}; phase DEPLOYING, SOAKING or GATING while running. */
    @Schema(description = "Where a deployment is: wave current of count.")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record WavesView(
            @Schema(description = "The running (or last) wave, from 1.")
            int current,
            @Schema(description = "Number of waves.")
            int count,
            @Schema(description = "DEPLOYING, SOAKING or GATING while running; null once finished.")
            WaveMachine.Phase phase,
            @Schema(description = "When the current wave started, epoch milliseconds.")
            Long startedAt,
            @Schema(description = "When its soak started, epoch milliseconds.")
            Long soakStartedAt,
            @Schema(description = "When it was paused, epoch milliseconds; null unless PAUSED.")
            Long pausedAt,
            @Schema(description = "Per-wave tallies (GET of one deployment only).")
            List<WaveView> waves) {
    }

    @Schema(description = "The targets of one wave by state.")
    public record WaveView(
            @Schema(description = "Wave number, from 1.")
            int wave,
            @Schema(description = "Targets in the wave.")
            long size,
            @Schema(description = "Not yet sent.")
            long pending,
            @Schema(description = "Sent, not finished.")
            long inProgress,
            @Schema(description = "Committed.")
            long committed,
            @Schema(description = "Rolled back.")
            long rolledBack,
            @Schema(description = "Failed (or superseded by a newer deployment).")
            long failed,
            @Schema(description = "Timed out.")
            long timedOut,
            @Schema(description = "Cancelled.")
            long cancelled) {
    }

    /** Why a deployment halted: the rule, its numbers, and the devices sent back or stopped. */
    @Schema(description = "Why a deployment halted itself.")
    public record HaltView(
            @Schema(description = "The rule that halted it: abort rule, success condition or a telemetry gate.")
            String rule,
            @Schema(description = "The rule's numbers.")
            String detail,
            @Schema(description = "The devices sent back or stopped (JSON).", type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.OBJECT)
            Object devices) {
    }

    @Schema(description = "Why a deployment is aborted (optional body).")
    public record AbortRequest(
            @Schema(description = "Free text recorded with the abort, at most 1000 characters.")
            @Size(max = 1000) String reason) {
    }

    @Schema(name = "DeploymentRollbackRequest", description = "Why a deployment is rolled back (optional body).")
    public record RollbackRequest(
            @Schema(description = "Free text recorded with the rollback, at most 1000 characters.")
            @Size(max = 1000) String reason) {
    }

    @Schema(description = "A rollback command sent to one device.")
    public record SentCommand(
            @Schema(description = "Device id.")
            String deviceId,
            @Schema(description = "Id of the ROLLBACK command.")
            String commandId) {
    }

    /** What a deployment rollback did: commands sent to devices running it, targets stopped before activation. */
    @Schema(description = "What a deployment rollback did.")
    public record RollbackResult(
            @Schema(description = "Deployment id.")
            String deploymentId,
            @Schema(description = "The recorded reason.")
            String reason,
            @Schema(description = "Devices running it, each sent a ROLLBACK command.")
            List<SentCommand> sent,
            @Schema(description = "Devices stopped before they activated it.")
            List<String> cancelled) {
    }

    @Schema(description = "What a device rollback did.")
    public record DeviceRollbackResult(
            @Schema(description = "Device id.")
            String deviceId,
            @Schema(description = "The deployment whose model it leaves, if any.")
            String deploymentId,
            @Schema(description = "Id of the ROLLBACK command sent.")
            String commandId,
            @Schema(description = "The recorded reason.")
            String reason) {
    }
}
