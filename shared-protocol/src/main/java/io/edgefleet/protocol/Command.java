package io.edgefleet.protocol;

import java.util.Map;

/**
 * Server to agent on {@code devices/{id}/cmd}.
 *
 * <ul>
 *   <li>DEPLOY: fetch {@code artifact} from its class's artifact topics, verify it against the signed
 *       manifest, stage, activate, watch {@code health}, commit or roll back.</li>
 *   <li>ROLLBACK: go back to the standby (previous) model; {@code reason} says why.</li>
 *   <li>CONFIG: change agent settings, e.g. {@code telemetryWindowSeconds}.</li>
 * </ul>
 */
public record Command(
        int v,
        String id,
        long ts,
        Type type,
        String deploymentId,
        ArtifactRef artifact,
        HealthPolicy health,
        String reason,
        Map<String, String> config) implements Message {

    public enum Type { DEPLOY, ROLLBACK, CONFIG }

    public static Command deploy(String deploymentId, ArtifactRef artifact, HealthPolicy health) {
        return new Command(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                Type.DEPLOY, deploymentId, artifact, health, null, null);
    }

    public static Command rollback(String deploymentId, String reason) {
        return new Command(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                Type.ROLLBACK, deploymentId, null, null, reason, null);
    }

    public static Command config(Map<String, String> config) {
        return new Command(Protocol.VERSION, Protocol.newMessageId(), System.currentTimeMillis(),
                Type.CONFIG, null, null, null, null, Map.copyOf(config));
    }

    @Override
    public void validate() {
        Message.requireHeader(this);
        Message.requirePresent(type, "type");
        switch (type) {
            case DEPLOY -> {
                Message.requirePresent(deploymentId, "deploymentId");
                Message.requirePresent(artifact, "artifact");
                artifact.validate();
                if (health != null) {
                    health.validate();
                }
            }
            case ROLLBACK -> { }
            case CONFIG -> Message.requirePresent(config, "config");
        }
    }
}
