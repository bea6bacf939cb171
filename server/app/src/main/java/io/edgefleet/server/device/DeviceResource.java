package io.edgefleet.server.device;

import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.api.Pages;
import io.edgefleet.server.api.QueryParams;
import io.edgefleet.server.device.DeviceDtos.CredentialsRevoked;
import io.edgefleet.server.device.DeviceDtos.CredentialsRotated;
import io.edgefleet.server.device.DeviceDtos.DeviceView;
import io.edgefleet.server.device.DeviceDtos.EventView;
import io.edgefleet.server.device.DeviceDtos.RegisterDeviceRequest;
import io.edgefleet.server.device.DeviceDtos.RegisteredDevice;
import io.edgefleet.server.device.DeviceDtos.RollbackRequest;
import io.edgefleet.server.rollout.RolloutService;
import io.edgefleet.server.telemetry.TelemetryView;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/api/v1/devices")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Devices", description = "Device registry: registration with per-device broker credentials, status, events, "
        + "telemetry, rollback.")
public class DeviceResource {

    @Inject
    DeviceService devices;

    @Inject
    RolloutService rollouts;

    /** 201 with the device's broker credentials: the password is shown here and never again. */
    @Operation(summary = "Register a device",
            description = "Registers a device of an existing class and creates its broker login. The "
                    + "answer is the only time its password is shown.")
    @APIResponse(responseCode = "201", description = "Registered; Location names the device. Carries the credentials and the broker URL.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = RegisteredDevice.class)))
    @APIResponse(responseCode = "400", description = "Unknown class (UNKNOWN_DEVICE_CLASS), an id not usable as an MQTT user (INVALID_ID), "
            + "a field out of bounds (VALIDATION_FAILED), malformed JSON.")
    @APIResponse(responseCode = "409", description = "A device with this id exists, or the id is reserved for the server (ALREADY_EXISTS).")
    @APIResponse(responseCode = "411", description = "A JSON body sent without Content-Length (LENGTH_REQUIRED).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @POST
    public Response register(@RequestBody(description = "The device id, class and tags.") @NotNull @Valid RegisterDeviceRequest request, @Context UriInfo uri) {
        RegisteredDevice created = devices.register(request);
        return Response.created(uri.getAbsolutePathBuilder().path(created.id()).build()).entity(created).build();
    }

    /**
     * Devices in id order, one page at a time (see {@link Pages}): filters {@code classId}, {@code tag},
     * {@code online}, {@code model} and {@code version} (of the active model).
     */
    @Operation(summary = "List devices",
            description = "Devices in id order, filtered by class, tag, online state or the model they "
                    + "run. A page of at most limit items; when more follow, X-Next-Cursor and "
                    + "Link: <...>; rel=\"next\" point at the next page.")
    @APIResponse(responseCode = "200", description = "One page of devices, by id.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = DeviceView.class)))
    @APIResponse(responseCode = "400", description = "online not true/false, version not an integer, or a bad limit or cursor "
            + "(VALIDATION_FAILED).")
    @GET
    public Response list(@Parameter(description = "Only devices of this class.") @QueryParam("classId") String classId, @Parameter(description = "Only devices carrying this tag.") @QueryParam("tag") String tag,
                         @Parameter(description = "true or false: only devices online (offline).") @QueryParam("online") String online, @Parameter(description = "Only devices whose active model is this one.") @QueryParam("model") String model,
                         @Parameter(description = "Only devices whose active model version is this one (with model).") @QueryParam("version") String version, @Parameter(description = "Page size, 1..1000 (default 500).") @QueryParam("limit") String limit,
                         @Parameter(description = "Opaque cursor from the previous page's X-Next-Cursor header (or Link "
                    + "rel=\"next\"); absent for the first page.") @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        DeviceService.DeviceFilter f = new DeviceService.DeviceFilter(classId, tag, bool("online", online), model,
                number("version", version));
        return Pages.response(devices.list(f, cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT)), uri);
    }

    private static Boolean bool(String name, String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        if (raw.equalsIgnoreCase("true") || raw.equalsIgnoreCase("false")) {
            return Boolean.valueOf(raw);
        }
        throw new ApiException(ErrorCode.VALIDATION_FAILED, name + " must be true or false, not '" + raw + "'");
    }

    private static Long number(String name, String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        try {
            return Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            throw new ApiException(ErrorCode.VALIDATION_FAILED, name + " must be an integer, not '" + raw + "'");
        }
    }

    @Operation(summary = "Get a device",
            description = "One device: class, tags, online state, active and standby model, last "
                    + "telemetry.")
    @APIResponse(responseCode = "200", description = "The device.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DeviceView.class)))
    @APIResponse(responseCode = "404", description = "No device with this id (NOT_FOUND).")
    @GET
    @Path("/{id}")
    public DeviceView get(@Parameter(description = "Device id.") @PathParam("id") String id) {
        return devices.get(id);
    }

    @Operation(summary = "Rotate a device's credentials",
            description = "Issues a new broker password; the old one stops working and open sessions "
                    + "are cut. The answer is the only time the new password is shown.")
    @APIResponse(responseCode = "200", description = "The new credentials.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = CredentialsRotated.class)))
    @APIResponse(responseCode = "404", description = "No device with this id (NOT_FOUND).")
    @POST
    @Path("/{id}/credentials")
    @Consumes(MediaType.WILDCARD)
    public CredentialsRotated rotate(@Parameter(description = "Device id.") @PathParam("id") String id) {
        return devices.rotateCredentials(id);
    }

    @Operation(summary = "Revoke a device's credentials",
            description = "The device can no longer connect; open sessions are cut. Rotate to let it "
                    + "back in.")
    @APIResponse(responseCode = "200", description = "Revoked.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = CredentialsRevoked.class)))
    @APIResponse(responseCode = "404", description = "No device with this id (NOT_FOUND).")
    @DELETE
    @Path("/{id}/credentials")
    @Consumes(MediaType.WILDCARD)
    public CredentialsRevoked revoke(@Parameter(description = "Device id.") @PathParam("id") String id) {
        return devices.revokeCredentials(id);
    }

    @Operation(summary = "List a device's events",
            description = "Events the device reported (downloads, activations, commits, rollbacks, "
                    + "failures), newest first. A page of at most limit items; when more follow, "
                    + "X-Next-Cursor and Link: <...>; rel=\"next\" point at the next page.")
    @APIResponse(responseCode = "200", description = "One page of events, newest first.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = EventView.class)))
    @APIResponse(responseCode = "400", description = "limit is not an integer in 1..1000, or cursor is not one this API returned "
            + "(VALIDATION_FAILED).")
    @APIResponse(responseCode = "404", description = "No device with this id (NOT_FOUND).")
    @GET
    @Path("/{id}/events")
    public Response events(@Parameter(description = "Device id.") @PathParam("id") String id, @Parameter(description = "Page size, 1..1000 (default 100).") @QueryParam("limit") @DefaultValue("100") String limit,
                           @Parameter(description = "Opaque cursor from the previous page's X-Next-Cursor header (or Link "
                    + "rel=\"next\"); absent for the first page.") @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(devices.events(id, cursor, Pages.limit(limit, 100)), uri);
    }

    @Operation(summary = "Time per degradation mode",
            description = "How long each model of the device spent in each degradation mode (full, light, cascade) over"
                    + " a window ending now, from its stored MODE_CHANGED events (docs/degradation.md). A model is in the"
                    + " mode of its last switch; before its first switch, in that switch's 'from' mode. Models that never"
                    + " switched are not listed.")
    @APIResponse(responseCode = "200", description = "Time per mode, per model.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DeviceDtos.ModeTimesView.class)))
    @APIResponse(responseCode = "400", description = "hours is not an integer in 1..744 (VALIDATION_FAILED).")
    @APIResponse(responseCode = "404", description = "No device with this id (NOT_FOUND).")
    @GET
    @Path("/{id}/mode-times")
    public DeviceDtos.ModeTimesView modeTimes(@Parameter(description = "Device id.") @PathParam("id") String id,
                                              @Parameter(description = "Window length in hours, ending now, 1..744 (default 24).")
                                              @QueryParam("hours") @DefaultValue("24") String hours) {
        long h = QueryParams.boundedInt("hours", hours, 24, 1, (int) (DeviceService.MAX_MODE_WINDOW_MS / 3_600_000L), true);
        long now = System.currentTimeMillis();
        return devices.modeTimes(id, now - h * 3_600_000L, now);
    }

    @Operation(summary = "List a device's telemetry windows",
            description = "Raw telemetry windows of the device, newest first (kept for "
                    + "edgefleet.telemetry.raw-retention; older data is in "
                    + "/api/v1/telemetry/hourly). A page of at most limit items; when more follow, "
                    + "X-Next-Cursor and Link: <...>; rel=\"next\" point at the next page.")
    @APIResponse(responseCode = "200", description = "One page of windows, newest first.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = TelemetryView.class)))
    @APIResponse(responseCode = "400", description = "limit is not an integer in 1..1000, or cursor is not one this API returned "
            + "(VALIDATION_FAILED).")
    @APIResponse(responseCode = "404", description = "No device with this id (NOT_FOUND).")
    @GET
    @Path("/{id}/telemetry")
    public Response telemetry(@Parameter(description = "Device id.") @PathParam("id") String id, @Parameter(description = "Page size, 1..1000 (default 100).") @QueryParam("limit") @DefaultValue("100") String limit,
                              @Parameter(description = "Opaque cursor from the previous page's X-Next-Cursor header (or Link "
                    + "rel=\"next\"); absent for the first page.") @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(devices.telemetry(id, cursor, Pages.limit(limit, 100)), uri);
    }

    @Operation(summary = "Roll a device back",
            description = "Sends the device a signed ROLLBACK command: it returns to its standby model. "
                    + "The body is optional.")
    @APIResponse(responseCode = "202", description = "The command was sent.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = io.edgefleet.server.rollout.DeploymentDtos.DeviceRollbackResult.class)))
    @APIResponse(responseCode = "400", description = "Malformed JSON (MALFORMED_JSON), or a field missing or out of bounds "
            + "(VALIDATION_FAILED, with fields naming each).")
    @APIResponse(responseCode = "404", description = "No device with this id (NOT_FOUND).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @APIResponse(responseCode = "503", description = "The server is not connected to the broker; nothing was sent (BROKER_UNAVAILABLE).")
    @POST
    @Path("/{id}/rollback")
    public Response rollback(@Parameter(description = "Device id.") @PathParam("id") String id, @RequestBody(description = "Optional reason.") @Valid RollbackRequest request) {
        return Response.accepted(rollouts.rollbackDevice(id, request == null ? null : request.reason())).build();
    }
}
