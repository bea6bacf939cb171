package io.edgefleet.server.device;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;
import io.edgefleet.protocol.ModelRef;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** JSON shapes of the device API. */
public final class DeviceDtos {
    private DeviceDtos() {
    }

    @Schema(description = "A device to register; the answer carries its broker credentials.")
    public record RegisterDeviceRequest(
            @Schema(description = "Device id, unique; also its MQTT user name and client id.")
            @NotBlank String id,
            @Schema(description = "Id of an existing device class.")
            @NotBlank String classId,
            @Schema(description = "Free labels used to target deployments, at most 32.")
            @Size(max = 32) List<@NotBlank String> tags) {
    }

    @Schema(description = "A registered device and what it last reported.")
    public record DeviceView(
            @Schema(description = "Device id.")
            String id,
            @Schema(description = "Its device class.")
            String classId,
            @Schema(description = "Its labels.")
            List<String> tags,
            @Schema(description = "Whether the broker currently reports it connected.")
            boolean online,
            @Schema(description = "Last message from it, epoch milliseconds; null if never seen.")
            Long lastSeen,
            @Schema(description = "Version of its agent, from its last status.")
            String agentVersion,
            @Schema(description = "The model version it runs; null if none.")
            ModelRef active,
            @Schema(description = "The previous model version kept for rollback; null if none.")
            ModelRef standby,
            @Schema(description = "Its last telemetry window (a TelemetryView); null if none yet.", implementation = io.edgefleet.server.telemetry.TelemetryView.class)
            @JsonRawValue String lastTelemetry,
            @Schema(description = "False once its credentials were revoked.")
            boolean credentialActive,
            @Schema(description = "Registration time, epoch milliseconds.")
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

    @Schema(description = "A device's broker login.")
    public record Credentials(
            @Schema(description = "MQTT user name (the device id).")
            String username,
            @Schema(description = "MQTT password; shown only in this answer, never again.")
            String password) {
    }

    @Schema(description = "Where the device connects.")
    public record MqttInfo(
            @Schema(description = "Broker URL for devices (edgefleet.mqtt.advertised-url), e.g. "
                    + "ssl://mqtt.example.com:8883.")
            String url) {
    }

    /** Answer to a registration: the only time the password is ever shown. */
    @Schema(description = "A newly registered device with its credentials: the only time the password is shown.")
    public record RegisteredDevice(
            @Schema(description = "Device id.")
            String id,
            @Schema(description = "Its device class.")
            String classId,
            @Schema(description = "Its labels.")
            List<String> tags,
            @Schema(description = "Always false right after registration.")
            boolean online,
            @Schema(description = "Registration time, epoch milliseconds.")
            long createdAt,
            @Schema(description = "Its broker login.")
            Credentials credentials,
            @Schema(description = "Where it connects.")
            MqttInfo mqtt,
            @Schema(description = "Base64 public keys the agent pins to verify signed manifests and commands.")
            List<String> serverKeys) {
    }

    @Schema(description = "Several devices to register at once: all of them, or none.")
    public record RegisterDevicesRequest(
            @Schema(description = "1 to 500 registrations, each as for POST /api/v1/devices; ids unique within the request.")
            @NotNull @Size(min = 1, max = DeviceService.MAX_BULK_REGISTRATION) List<@NotNull @Valid RegisterDeviceRequest> devices) {
    }

    @Schema(description = "The devices of a bulk registration with their credentials, in the order requested: the only"
            + " time their passwords are shown.")
    public record RegisteredDevices(
            @Schema(description = "One answer per requested device, in request order.")
            List<RegisteredDevice> devices) {
    }

    @Schema(description = "A device's new broker login; the old password stops working.")
    public record CredentialsRotated(
            @Schema(description = "Device id.")
            String deviceId,
            @Schema(description = "The new login; the password is shown only here.")
            Credentials credentials) {
    }

    @Schema(description = "Answer to a revocation: the device can no longer connect.")
    public record CredentialsRevoked(
            @Schema(description = "Device id.")
            String deviceId,
            @Schema(description = "True: the credentials are revoked (open sessions are cut).")
            boolean revoked) {
    }

    @Schema(description = "One event a device reported (download, activation, commit, rollback, failure).")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EventView(
            @Schema(description = "Message id of the event (unique per device).")
            String id,
            @Schema(description = "Event type, e.g. DOWNLOADING, ACTIVATED, COMMITTED, ROLLED_BACK, FAILED.")
            String type,
            @Schema(description = "Deployment it belongs to, if any.")
            String deploymentId,
            @Schema(description = "Model version it concerns, if any.")
            ModelRef model,
            @Schema(description = "Reason code (docs/protocol.md), for failures and rollbacks.")
            String reason,
            @Schema(description = "Human-readable detail.")
            String detail,
            @Schema(description = "Download progress 0..1, for progress events.")
            Double progress,
            @Schema(description = "When it happened on the device, epoch milliseconds.")
            long ts,
            @Schema(description = "When the server received it, epoch milliseconds.")
            long receivedAt) {

        static EventView of(DeviceEventEntity e) {
            ModelRef model = e.modelName == null ? null : new ModelRef(e.modelName, e.modelVersion, e.modelSha256);
            return new EventView(e.messageId, e.type, e.deploymentId, model, e.reason, e.detail, e.progress, e.ts,
                    e.receivedAt);
        }
    }

    @Schema(name = "DeviceRollbackRequest", description = "Why a device is rolled back (optional body).")
    public record RollbackRequest(
            @Schema(description = "Free text recorded with the rollback, at most 1000 characters.")
            @Size(max = 1000) String reason) {
    }

    @Schema(name = "DeviceModeTimes", description = "Time per degradation mode of each model of a device over a window,"
            + " from its MODE_CHANGED events (docs/degradation.md).")
    public record ModeTimesView(
            @Schema(description = "Device id.") String deviceId,
            @Schema(description = "Window start, epoch ms (device clock, as the events' ts).") long from,
            @Schema(description = "Window end, epoch ms.") long to,
            @Schema(description = "One entry per model that switched mode at or before the window's end; a model that"
                    + " never switched is not listed (its mode is not known from events).") List<ModelModeTimes> models,
            @Schema(description = "MODE_CHANGED events whose detail was not '<from> -> <to>: <why>' and were skipped.")
            int skippedEvents) {
    }

    @Schema(name = "ModelModeTimes", description = "One model's time per mode over the window.")
    public record ModelModeTimes(
            @Schema(description = "Model name.") String model,
            @Schema(description = "Mode at the window's end: full, light or cascade.") String modeAtEnd,
            @Schema(description = "Switches inside the window.") int switches,
            @Schema(description = "Each mode the model was in, in order of first appearance.") List<ModeTime> modes) {
    }

    @Schema(name = "ModeTime", description = "Time spent in one mode.")
    public record ModeTime(
            @Schema(description = "full, light or cascade.") String mode,
            @Schema(description = "Seconds in the mode within the window.") double seconds,
            @Schema(description = "Share of the window, 0..1.") double share) {
    }
}
