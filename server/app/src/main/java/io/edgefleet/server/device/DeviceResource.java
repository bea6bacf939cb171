package io.edgefleet.server.device;

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

    @GET
    public List<DeviceView> list(@QueryParam("classId") String classId, @QueryParam("tag") String tag) {
        return devices.list(classId, tag);
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
    public List<EventView> events(@PathParam("id") String id, @QueryParam("limit") @DefaultValue("100") String limit) {
        return devices.events(id, DeviceService.parseLimit(limit));
    }

    @GET
    @Path("/{id}/telemetry")
    public List<TelemetryView> telemetry(@PathParam("id") String id, @QueryParam("limit") @DefaultValue("100") String limit) {
        return devices.telemetry(id, DeviceService.parseLimit(limit));
    }

    @POST
    @Path("/{id}/rollback")
    public Response rollback(@PathParam("id") String id, @Valid RollbackRequest request) {
        return Response.accepted(rollouts.rollbackDevice(id, request == null ? null : request.reason())).build();
    }
}
