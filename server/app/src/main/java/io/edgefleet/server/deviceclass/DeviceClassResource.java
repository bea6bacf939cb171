package io.edgefleet.server.deviceclass;
import jakarta.ws.rs.QueryParam;
import io.edgefleet.server.api.Pages;

import io.edgefleet.server.deviceclass.DeviceClassDtos.DeviceClassRequest;
import io.edgefleet.server.deviceclass.DeviceClassDtos.DeviceClassView;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.core.Context;
import java.util.List;

@Path("/api/v1/device-classes")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class DeviceClassResource {

    @Inject
    DeviceClassService service;

    @POST
    public Response create(@NotNull @Valid DeviceClassRequest request, @Context UriInfo uri) {
        DeviceClassView created = service.create(request);
        return Response.created(uri.getAbsolutePathBuilder().path(created.id()).build()).entity(created).build();
    }

    @GET
    public Response list(@QueryParam("limit") String limit, @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(Pages.slice(service.list(), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                DeviceClassView::id), uri);
    }

    @GET
    @Path("/{id}")
    public DeviceClassView get(@PathParam("id") String id) {
        return service.get(id);
    }

    @PUT
    @Path("/{id}")
    public DeviceClassView update(@PathParam("id") String id, @NotNull @Valid DeviceClassRequest request) {
        return service.update(id, request);
    }
}
