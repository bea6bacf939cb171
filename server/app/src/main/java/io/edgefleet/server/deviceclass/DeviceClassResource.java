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
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/api/v1/device-classes")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Device classes", description = "Device classes: hardware, precisions and the SLOs every model for the class must meet.")
public class DeviceClassResource {

    @Inject
    DeviceClassService service;

    @Operation(summary = "Create a device class",
            description = "Creates a device class with its hardware description and SLOs.")
    @APIResponse(responseCode = "201", description = "Created; Location names the class.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DeviceClassView.class)))
    @APIResponse(responseCode = "400", description = "An invalid id (INVALID_ID), a field missing or out of bounds (VALIDATION_FAILED), "
            + "malformed JSON.")
    @APIResponse(responseCode = "409", description = "A class with this id exists (ALREADY_EXISTS).")
    @APIResponse(responseCode = "411", description = "A JSON body sent without Content-Length (LENGTH_REQUIRED).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @POST
    public Response create(@RequestBody(description = "The class.") @NotNull @Valid DeviceClassRequest request, @Context UriInfo uri) {
        DeviceClassView created = service.create(request);
        return Response.created(uri.getAbsolutePathBuilder().path(created.id()).build()).entity(created).build();
    }

    @Operation(summary = "List device classes",
            description = "Device classes in id order. A page of at most limit items; when more follow, "
                    + "X-Next-Cursor and Link: <...>; rel=\"next\" point at the next page.")
    @APIResponse(responseCode = "200", description = "One page of classes, by id.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = DeviceClassView.class)))
    @APIResponse(responseCode = "400", description = "limit is not an integer in 1..1000, or cursor is not one this API returned "
            + "(VALIDATION_FAILED).")
    @GET
    public Response list(@Parameter(description = "Page size, 1..1000 (default 500).") @QueryParam("limit") String limit, @Parameter(description = "Opaque cursor from the previous page's X-Next-Cursor header (or Link "
                    + "rel=\"next\"); absent for the first page.") @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(Pages.slice(service.list(), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                DeviceClassView::id), uri);
    }

    @Operation(summary = "Get a device class",
            description = "One device class.")
    @APIResponse(responseCode = "200", description = "The class.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DeviceClassView.class)))
    @APIResponse(responseCode = "404", description = "No class with this id (NOT_FOUND).")
    @GET
    @Path("/{id}")
    public DeviceClassView get(@Parameter(description = "Class id.") @PathParam("id") String id) {
        return service.get(id);
    }

    @Operation(summary = "Update a device class",
            description = "Replaces a class's hardware description and SLOs.")
    @APIResponse(responseCode = "200", description = "The class as stored.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DeviceClassView.class)))
    @APIResponse(responseCode = "400", description = "A field missing or out of bounds, or an id differing from the path "
            + "(VALIDATION_FAILED), malformed JSON.")
    @APIResponse(responseCode = "404", description = "No class with this id (NOT_FOUND).")
    @APIResponse(responseCode = "411", description = "A JSON body sent without Content-Length (LENGTH_REQUIRED).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @PUT
    @Path("/{id}")
    public DeviceClassView update(@Parameter(description = "Class id.") @PathParam("id") String id, @RequestBody(description = "The complete class (id optional; if given it must match the path).") @NotNull @Valid DeviceClassRequest request) {
        return service.update(id, request);
    }
}
