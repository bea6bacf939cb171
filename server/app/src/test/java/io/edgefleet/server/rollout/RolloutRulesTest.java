package io.edgefleet.server.rollout;

import static io.edgefleet.server.rollout.TargetState.ACTIVATED;
import static io.edgefleet.server.rollout.TargetState.COMMITTED;
import static io.edgefleet.server.rollout.TargetState.DOWNLOADING;
import static io.edgefleet.server.rollout.TargetState.FAILED;
import static io.edgefleet.server.rollout.TargetState.PENDING;
import static io.edgefleet.server.rollout.TargetState.ROLLED_BACK;
import static io.edgefleet.server.rollout.TargetState.SENT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgefleet.protocol.DeviceEvent;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RolloutRulesTest {

    /** Every (state, event) pair; "-" means the event leaves the target as it is. */
    @ParameterizedTest(name = "{0} + {1} -> {2}")
    @CsvSource({
        "PENDING, DEPLOY_RECEIVED, DOWNLOADING",
        "SENT, DEPLOY_RECEIVED, DOWNLOADING",
        "SENT, DOWNLOAD_PROGRESS, DOWNLOADING",
        "SENT, DOWNLOADED, DOWNLOADING",
        "SENT, VERIFIED, DOWNLOADING",
        "DOWNLOADING, DOWNLOAD_PROGRESS, -",
        "ACTIVATED, DOWNLOAD_PROGRESS, -",
        "COMMITTED, DEPLOY_RECEIVED, -",
        "SENT, ACTIVATED, ACTIVATED",
        "DOWNLOADING, ACTIVATED, ACTIVATED",
        "PENDING, ACTIVATED, ACTIVATED",
        "ACTIVATED, ACTIVATED, -",
        "COMMITTED, ACTIVATED, -",
        "ROLLED_BACK, ACTIVATED, -",
        "FAILED, ACTIVATED, -",
        "ACTIVATED, COMMITTED, COMMITTED",
        "DOWNLOADING, COMMITTED, COMMITTED",
        "COMMITTED, COMMITTED, -",
        "FAILED, COMMITTED, -",
        "ROLLED_BACK, COMMITTED, -",
        "ACTIVATED, ROLLED_BACK, ROLLED_BACK",
        "COMMITTED, ROLLED_BACK, ROLLED_BACK",
        "DOWNLOADING, ROLLED_BACK, ROLLED_BACK",
        "ROLLED_BACK, ROLLED_BACK, -",
        "FAILED, ROLLED_BACK, -",
        "SENT, DEPLOY_FAILED, FAILED",
        "DOWNLOADING, DEPLOY_FAILED, FAILED",
        "ACTIVATED, DEPLOY_FAILED, FAILED",
        "COMMITTED, DEPLOY_FAILED, -",
        "FAILED, DEPLOY_FAILED, -",
        "SENT, COMMAND_REJECTED, FAILED",
        "PENDING, COMMAND_REJECTED, FAILED",
        "DOWNLOADING, COMMAND_REJECTED, FAILED",
        "ACTIVATED, COMMAND_REJECTED, -",
        "COMMITTED, COMMAND_REJECTED, -",
        "ROLLED_BACK, COMMAND_REJECTED, -",
        // a device that answers after its target timed out is followed; cancelled targets stay cancelled
        "TIMED_OUT, ACTIVATED, ACTIVATED",
        "TIMED_OUT, COMMITTED, COMMITTED",
        "TIMED_OUT, ROLLED_BACK, ROLLED_BACK",
        "TIMED_OUT, DEPLOY_FAILED, -",
        "TIMED_OUT, DOWNLOAD_PROGRESS, -",
        "CANCELLED, ACTIVATED, -",
        "CANCELLED, COMMITTED, -",
        "CANCELLED, DEPLOY_FAILED, -",
        "CANCELLED, ROLLED_BACK, -",
        // a switch to or from the light fallback moves no target
        "DOWNLOADING, MODE_CHANGED, -",
        "ACTIVATED, MODE_CHANGED, -",
        "COMMITTED, MODE_CHANGED, -",
    })
    void transitions(TargetState from, DeviceEvent.Type event, String expected) {
        String actual = RolloutRules.next(from, event).map(Enum::name).orElse("-");
        assertEquals(expected, actual);
    }

    @Test
    void deploymentStatus() {
        assertEquals(DeploymentStatus.IN_PROGRESS, RolloutRules.status(List.of(COMMITTED, SENT), false));
        assertEquals(DeploymentStatus.IN_PROGRESS, RolloutRules.status(List.of(PENDING), false));
        assertEquals(DeploymentStatus.IN_PROGRESS, RolloutRules.status(List.of(FAILED, ACTIVATED), false));
        assertEquals(DeploymentStatus.IN_PROGRESS, RolloutRules.status(List.of(DOWNLOADING), false));
        assertEquals(DeploymentStatus.COMPLETED, RolloutRules.status(List.of(COMMITTED, COMMITTED), false));
        assertEquals(DeploymentStatus.PARTIAL, RolloutRules.status(List.of(COMMITTED, FAILED), false));
        assertEquals(DeploymentStatus.PARTIAL, RolloutRules.status(List.of(COMMITTED, ROLLED_BACK), false));
        assertEquals(DeploymentStatus.ROLLED_BACK, RolloutRules.status(List.of(ROLLED_BACK, FAILED), false));
        assertEquals(DeploymentStatus.FAILED, RolloutRules.status(List.of(FAILED, FAILED), false));
        assertEquals(DeploymentStatus.TIMED_OUT, RolloutRules.status(List.of(TargetState.TIMED_OUT, FAILED), false));
        assertEquals(DeploymentStatus.PARTIAL, RolloutRules.status(List.of(TargetState.TIMED_OUT, COMMITTED), false));
        assertEquals(DeploymentStatus.ROLLED_BACK, RolloutRules.status(List.of(COMMITTED, SENT), true),
                "an operator rollback decides the status at once");
    }

    @Test
    void stateFlags() {
        for (TargetState s : TargetState.values()) {
            boolean terminal = s == COMMITTED || s == ROLLED_BACK || s == FAILED || s == TargetState.TIMED_OUT
                    || s == TargetState.CANCELLED;
            assertEquals(terminal, s.terminal(), s.name());
            assertEquals(s == ACTIVATED || s == COMMITTED, s.rollbackApplies(), s.name());
            assertEquals(s == PENDING || s == SENT || s == DOWNLOADING, s.needsArtifact(), s.name());
        }
    }

    @Test
    void chunkSizeGrowsSoManifestsStaySmall() {
        assertEquals(65536, ArtifactPublisher.chunkSizeFor(10_000_000, 65536));
        assertEquals(65536, ArtifactPublisher.chunkSizeFor(65536L * 2048, 65536));
        assertEquals(131072, ArtifactPublisher.chunkSizeFor(65536L * 2048 + 1, 65536));
        assertEquals(131072, ArtifactPublisher.chunkSizeFor(256L * 1024 * 1024, 65536), "exactly 2048 chunks");
        assertEquals(262144, ArtifactPublisher.chunkSizeFor(256L * 1024 * 1024 + 1, 65536));
        assertEquals(1024, ArtifactPublisher.chunkSizeFor(5000, 10), "clamped to the protocol minimum");
        assertEquals(1024 * 1024, ArtifactPublisher.chunkSizeFor(2L * 1024 * 1024 * 1024, 65536));
        assertEquals(8 * 1024 * 1024, ArtifactPublisher.chunkSizeFor(64L * 1024 * 1024 * 1024, 65536),
                "never above the protocol maximum");
    }
}
