package io.edgefleet.server.device;

import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import io.edgefleet.server.api.Pages;
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

@Path("/api/v1/devices")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class DeviceResource {

    @Inject
    DeviceService devices;

    @Inject
    RolloutService rollouts;

    /** 201 with the device's broker credentials: the password is shown here and never again. */
    @POST
    public Response register(@NotNull @Valid RegisterDeviceRequest request, @Context UriInfo uri) {
        RegisteredDevice created = devices.register(request);
        return Response.created(uri.getAbsolutePathBuilder().path(created.id()).build()).entity(created).build();
    }

    /**
     * Devices in id order, one page at a time (see {@link Pages}): filters {@code classId}, {@code tag},
     * {@code online}, {@code model} and {@code version} (of the active model).
     */
    @GET
    public Response list(@QueryParam("classId") String classId, @QueryParam("tag") String tag,
                         @QueryParam("online") String online, @QueryParam("model") String model,
                         @QueryParam("version") String version, @QueryParam("limit") String limit,
                         @QueryParam("cursor") String cursor, @Context UriInfo uri) {
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

    @GET
    @Path("/{id}")
    public DeviceView get(@PathParam("id") String id) {
        return devices.get(id);
    }

    @POST
    @Path("/{id}/credentials")
    @Consumes(MediaType.WILDCARD)
    public CredentialsRotated rotate(@PathParam("id") String id) {
        return devices.rotateCredentials(id);
    }

    @DELETE
    @Path("/{id}/credentials")
    @Consumes(MediaType.WILDCARD)
    public CredentialsRevoked revoke(@PathParam("id") String id) {
        return devices.revokeCredentials(id);
    }

    @GET
    @Path("/{id}/events")
    public Response events(@PathParam("id") String id, @QueryParam("limit") @DefaultValue("100") String limit,
                           @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(devices.events(id, cursor, Pages.limit(limit, 100)), uri);
    }

    @GET
    @Path("/{id}/telemetry")
    public Response telemetry(@PathParam("id") String id, @QueryParam("limit") @DefaultValue("100") String limit,
                              @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(devices.telemetry(id, cursor, Pages.limit(limit, 100)), uri);
    }

    @POST
    @Path("/{id}/rollback")
    public Response rollback(@PathParam("id") String id, @Valid RollbackRequest request) {
        return Response.accepted(rollouts.rollbackDevice(id, request == null ? null : request.reason())).build();
    }
}
