package io.edgefleet.server.capture;

import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** REST shapes of the per-device raw-input capture opt-in. */
public final class CaptureDtos {
    private CaptureDtos() {
    }

    @Schema(description = "Turns a device's raw-input capture on or off (off by default; docs/capture.md)")
    public record CaptureRequest(
            @Schema(description = "true to opt the device in, false to stop capture", required = true) Boolean enabled,
            @Schema(description = "Share of real inferences sampled, (0, 1]; required when enabled") Double rate,
            @Schema(description = "Most samples the device sends under this opt-in (1-100000, default 1000)") Integer maxSamples,
            @Schema(description = "Most bytes of raw input the device sends under this opt-in (1 KiB-256 MiB, default 16 MiB)") Long maxBytes) {
    }

    @Schema(description = "A device's capture opt-in and what arrived under it")
    public record CaptureView(
            @Schema(description = "Device id") String deviceId,
            @Schema(description = "Whether raw inputs may leave the device") boolean enabled,
            @Schema(description = "Share of inferences sampled") double rate,
            @Schema(description = "Sample bound") int maxSamples,
            @Schema(description = "Byte bound") long maxBytes,
            @Schema(description = "Samples stored so far under this opt-in") long samplesReceived,
            @Schema(description = "Raw-input bytes stored so far under this opt-in") long bytesReceived,
            @Schema(description = "Id of the signed CONFIG command sent (null on GET)") String commandId,
            @Schema(description = "Datasets stored from this device's captures, newest first") List<String> datasets) {
    }
}
