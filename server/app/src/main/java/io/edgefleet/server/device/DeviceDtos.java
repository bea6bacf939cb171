package io.edgefleet.server.device;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import io.edgefleet.protocol.ModelRef;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

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
            long createdAt,
            @Schema(description = "Every model the device holds, by name: active and standby version and update state,"
                    + " as its last ONLINE status said. `active`/`standby` above name the first of them (an older"
                    + " agent's only model).")
            List<DeviceModelView> models) {

        public static DeviceView of(DeviceEntity e) {
            return new DeviceView(e.id, e.classId, List.copyOf(e.tags), e.online, e.lastSeen, e.agentVersion,
                    ref(e.activeModel, e.activeVersion, e.activeSha256),
                    ref(e.standbyModel, e.standbyVersion, e.standbySha256),
                    e.lastTelemetry, e.credentialHash != null, e.createdAt, DeviceModelView.of(e.models));
        }

        static ModelRef ref(String model, Long version, String sha) {
            return model == null ? null : new ModelRef(model, version == null ? 0 : version, sha);
        }
    }

    @Schema(description = "One model a device holds, with its own A/B slots and update state.")
    public record DeviceModelView(
            @Schema(description = "Model name; the device's inference API serves it under this name.")
            String name,
            @Schema(description = "Version in the model's active slot; null when none runs.")
            ModelRef active,
            @Schema(description = "Fallback version in the model's other slot; null when none.")
            ModelRef standby,
            @Schema(description = "IDLE, DOWNLOADING, STAGED, ACTIVATED_UNCOMMITTED or COMMITTED; null from agents"
                    + " that predate several models per device.")
            String updateState) {

        static List<DeviceModelView> of(Map<String, DeviceModel> models) {
            return new java.util.TreeMap<>(models).entrySet().stream().map(e -> new DeviceModelView(e.getKey(),
                    DeviceView.ref(e.getValue().activeModel, e.getValue().activeVersion, e.getValue().activeSha256),
                    DeviceView.ref(e.getValue().standbyModel, e.getValue().standbyVersion, e.getValue().standbySha256),
                    e.getValue().updateState)).toList();
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
