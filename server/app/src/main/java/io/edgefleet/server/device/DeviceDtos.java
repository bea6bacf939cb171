package io.edgefleet.server.device;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import io.edgefleet.protocol.ModelRef;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import java.util.List;

/** JSON shapes of the device API. */
public final class DeviceDtos {
    private DeviceDtos() {
    }

    public record RegisterDeviceRequest(
            @NotBlank String id,
            @NotBlank String classId,
            @Size(max = 32) List<@NotBlank String> tags) {
    }

    public record DeviceView(
            String id,
            String classId,
            List<String> tags,
            boolean online,
            Long lastSeen,
            String agentVersion,
            ModelRef active,
            ModelRef standby,
            @JsonRawValue String lastTelemetry,
            boolean credentialActive,
            long createdAt) {

        public static DeviceView of(DeviceEntity e) {
            return new DeviceView(e.id, e.classId, List.copyOf(e.tags), e.online, e.lastSeen, e.agentVersion,
                    ref(e.activeModel, e.activeVersion, e.activeSha256),
                    ref(e.standbyModel, e.standbyVersion, e.standbySha256),
                    e.lastTelemetry, e.credentialHash != null, e.createdAt);
        }

        private static ModelRef ref(String model, Long version, String sha) {
            return model == null ? null : new ModelRef(model, version == null ? 0 : version, sha);
        }
    }

    public record Credentials(String username, String password) {
    }

    public record MqttInfo(String url) {
    }

    /** Answer to a registration: the only time the password is ever shown. */
    public record RegisteredDevice(
            String id,
            String classId,
            List<String> tags,
            boolean online,
            long createdAt,
            Credentials credentials,
            MqttInfo mqtt,
            List<String> serverKeys) {
    }

    public record CredentialsRotated(String deviceId, Credentials credentials) {
    }

    public record CredentialsRevoked(String deviceId, boolean revoked) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EventView(
            String id,
            String type,
            String deploymentId,
            ModelRef model,
            String reason,
            String detail,
            Double progress,
            long ts,
            long receivedAt) {

        static EventView of(DeviceEventEntity e) {
            ModelRef model = e.modelName == null ? null : new ModelRef(e.modelName, e.modelVersion, e.modelSha256);
            return new EventView(e.messageId, e.type, e.deploymentId, model, e.reason, e.detail, e.progress, e.ts,
                    e.receivedAt);
        }
    }

    public record RollbackRequest(@Size(max = 1000) String reason) {
    }
}
