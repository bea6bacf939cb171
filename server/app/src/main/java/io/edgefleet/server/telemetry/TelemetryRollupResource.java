package io.edgefleet.server.telemetry;

import io.edgefleet.server.api.ApiException;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/** {@code GET /api/v1/telemetry/hourly?deviceId=..} or {@code ?classId=..}: the hourly rollups device and class pages read. */
@Path("/api/v1/telemetry/hourly")
@Produces(MediaType.APPLICATION_JSON)
public class TelemetryRollupResource {

    @Inject
    TelemetryRollups rollups;

    @GET
    public List<RollupJob.HourlyView> hourly(@QueryParam("deviceId") String deviceId,
            @QueryParam("classId") String classId, @QueryParam("from") Long from, @QueryParam("to") Long to) {
        if ((deviceId == null) == (classId == null)) {
            throw ApiException.invalid("give exactly one of deviceId and classId");
        }
        long toMs = to == null ? Long.MAX_VALUE : to;
        long fromMs = from == null ? 0 : from;
        if (fromMs > toMs) {
            throw ApiException.invalid("from must not be after to");
        }
        return rollups.hourly(deviceId, classId, fromMs, toMs);
    }
}
