package io.edgefleet.server.loop;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.edgefleet.server.rollout.RolloutPolicy;
import jakarta.validation.constraints.Size;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** JSON shapes of the closed-loop and fleet-rollout API. */
public final class LoopDtos {
    private LoopDtos() {
    }

    @Schema(description = "A class's closed-loop settings")
    public record ClassLoopRequest(
            @Schema(description = "automatic (an alert starts a loop), approve (a loop waits for POST "
                    + "/api/v1/loops/{id}/approve) or off", required = true, example = "approve") String mode,
            @Schema(description = "Optional: a dataset of fresh inputs to recalibrate on when no device captured "
                    + "any (capture/<classId>/<model>/... datasets are preferred)") @Size(max = 64) String freshDataset) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(description = "A class's closed-loop settings and back-off")
    public record ClassLoopView(
            @Schema(description = "Device class id") String classId,
            @Schema(description = "automatic, approve or off") String mode,
            @Schema(description = "Whether the mode was set for this class (false: edgefleet.loop.default-mode)")
            boolean explicit,
            @Schema(description = "The operator's fresh dataset for recalibration, if set") String freshDataset,
            @Schema(description = "Set while the class is backed off after repeated rollbacks") Long backedOffAt,
            @Schema(description = "Why the class backed off") String backedOffReason,
            @Schema(description = "Last change, epoch ms; null when never set") Long updatedAt) {
    }

    @Schema(description = "Why an operator rejects a loop")
    public record RejectRequest(@Schema(description = "Free text, kept in the audit trail") @Size(max = 1000)
            String reason) {
    }

    @Schema(description = "One transition of a loop")
    public record HistoryEntry(
            @Schema(description = "Epoch ms") long at,
            @Schema(description = "The state entered") LoopState state,
            @Schema(description = "What happened") String note) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(description = "One closed loop: the alert that caused it, the decision, the re-plan, the variant, the "
            + "canary deployment and the outcome, with timestamps")
    public record LoopView(
            @Schema(description = "Loop id") String id,
            @Schema(description = "Device class") String classId,
            @Schema(description = "Model name") String model,
            @Schema(description = "The unpruned version the re-plan starts from") Long baseVersion,
            @Schema(description = "The class's variant when the alert fired") Long fromVersion,
            @Schema(description = "That variant's candidate id, e.g. identity or prune-structured[target=0.5]")
            String fromCandidate,
            @Schema(description = "The alert that caused the loop") Long alertId,
            @Schema(description = "The alert's rule") String ruleId,
            @Schema(description = "The re-compression request the alert's action recorded") Long requestId,
            @Schema(description = "The rule's metric") String metric,
            @Schema(description = "When the alert fired, epoch ms") Long alertFiredAt,
            @Schema(description = "The class's mode when the loop was decided") LoopMode mode,
            @Schema(description = "AGGRESSIVE, RECALIBRATE or GENTLER") LoopStrategy strategy,
            @Schema(description = "Where the loop is") LoopState state,
            @Schema(description = "The decision's reason") String reason,
            @Schema(description = "The calibration data of the re-plan") String calibrationDataset,
            @Schema(description = "Candidate ids the re-plan searched") List<String> candidates,
            @Schema(description = "The re-plan job (GET /api/v1/plans/{id})") String planId,
            @Schema(description = "The chosen, gated variant's model version") Long resultVersion,
            @Schema(description = "The chosen candidate id") String choice,
            @Schema(description = "The canary deployment (GET /api/v1/deployments/{id})") String deploymentId,
            @Schema(description = "How it ended") String outcome,
            @Schema(description = "Who approved or rejected it: the principal and the way in, e.g. \"ops via console\" or \"admin via api\"") String decidedBy,
            @Schema(description = "Every transition") List<HistoryEntry> history,
            @Schema(description = "Epoch ms") long createdAt,
            @Schema(description = "Epoch ms") Long approvedAt,
            @Schema(description = "Epoch ms") Long planSubmittedAt,
            @Schema(description = "Epoch ms") Long planFinishedAt,
            @Schema(description = "Epoch ms") Long deploymentCreatedAt,
            @Schema(description = "When every canary device had committed the variant, epoch ms")
            Long canaryCommittedAt,
            @Schema(description = "Epoch ms") Long finishedAt,
            @Schema(description = "From the alert firing to the canary committed, ms") Long alertToCanaryMs) {
    }

    @Schema(description = "Deploy a model version to the fleet: each device class gets its own registered variant")
    public record FleetRolloutRequest(
            @Schema(description = "Classes to deploy to; all classes when left out") @Size(max = 1000)
            List<String> classIds,
            @Schema(description = "The rollout policy of every class's deployment (see docs/rollouts.md); left out: "
                    + "the deployment default") RolloutPolicy policy) {
    }

    @Schema(description = "One class's deployment of a fleet rollout")
    public record ClassDeployment(
            @Schema(description = "Device class") String classId,
            @Schema(description = "The class's variant (model version) that was deployed") long version,
            @Schema(description = "The variant's candidate id (recipe and grid parameters)") String candidate,
            @Schema(description = "The deployment (GET /api/v1/deployments/{id})") String deploymentId,
            @Schema(description = "Targets in the deployment") int targets) {
    }

    @Schema(description = "A class that got no deployment, and why")
    public record ClassSkipped(
            @Schema(description = "Device class") String classId,
            @Schema(description = "Why nothing was deployed to it") String reason) {
    }

    @Schema(description = "The group of deployments a fleet rollout created")
    public record FleetRolloutView(
            @Schema(description = "Model name") String model,
            @Schema(description = "The planned (unpruned) version") long version,
            @Schema(description = "One deployment per class") List<ClassDeployment> deployments,
            @Schema(description = "Classes without a deployment, with the reason") List<ClassSkipped> skipped) {
    }
}
