package io.edgefleet.server.telemetry;

import io.edgefleet.server.api.ApiException;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** {@code GET /api/v1/telemetry/hourly?deviceId=..} or {@code ?classId=..}: the hourly rollups device and class pages read. */
@Path("/api/v1/telemetry/hourly")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Telemetry", description = "Hourly telemetry rollups of devices and classes (docs/metrics.md).")
public class TelemetryRollupResource {

    @Inject
    TelemetryRollups rollups;

    @Operation(summary = "Get hourly telemetry",
            description = "Hourly rollups of one device or one class (exactly one of deviceId and "
                    + "classId), per model version, oldest first; with current=true the hours not rolled up yet follow, "
                    + "computed from the raw windows, the running one marked partial.")
    @APIResponse(responseCode = "200", description = "The hourly rows.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = io.edgefleet.server.telemetry.RollupJob.HourlyView.class)))
    @APIResponse(responseCode = "400", description = "Neither or both of deviceId and classId, or from after to (VALIDATION_FAILED).")
    @GET
    public List<RollupJob.HourlyView> hourly(@Parameter(description = "The device (or give classId).") @QueryParam("deviceId") String deviceId,
            @Parameter(description = "The class (or give deviceId).") @QueryParam("classId") String classId, @Parameter(description = "Earliest hour start, epoch milliseconds (default: all).") @QueryParam("from") Long from, @Parameter(description = "Latest hour start, epoch milliseconds (default: all).") @QueryParam("to") Long to,
            @Parameter(description = "true: also the hours not rolled up yet (the current one marked partial), computed "
                    + "from the raw windows.") @QueryParam("current") boolean current) {
        if ((deviceId == null) == (classId == null)) {
            throw ApiException.invalid("give exactly one of deviceId and classId");
        }
        long toMs = to == null ? Long.MAX_VALUE : to;
        long fromMs = from == null ? 0 : from;
        if (fromMs > toMs) {
            throw ApiException.invalid("from must not be after to");
        }
        return rollups.hourly(deviceId, classId, fromMs, toMs, current, System.currentTimeMillis());
    }
}
