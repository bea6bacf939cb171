package io.edgefleet.server.compression;
import jakarta.ws.rs.QueryParam;
import io.edgefleet.server.api.Pages;

import io.edgefleet.server.compression.CompressionDtos.DatasetView;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.io.InputStream;
import java.util.List;

@Path("/api/v1/datasets")
@Produces(MediaType.APPLICATION_JSON)
public class DatasetResource {

    @Inject
    DatasetService service;

    /** The raw .npz bytes are the body (as for models: no form parsing of a large file). */
    @POST
    @Path("/{name}")
    @Consumes(MediaType.APPLICATION_OCTET_STREAM)
    public Response upload(@PathParam("name") String name, @HeaderParam(HttpHeaders.CONTENT_LENGTH) Long contentLength,
                           InputStream body, @Context UriInfo uri) {
        DatasetService.Registered r = service.register(name, body, contentLength);
        if (!r.created()) {
            return Response.ok(r.view()).build(); // the same bytes again: idempotent
        }
        return Response.created(uri.getAbsolutePath()).entity(r.view()).build();
    }

    @GET
    public Response list(@QueryParam("limit") String limit, @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(Pages.slice(service.list(), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                DatasetView::name), uri);
    }

    /** Captured datasets' names contain slashes (capture/{class}/{model}/{time}), hence the path pattern. */
    @GET
    @Path("/{name: .+}")
    public DatasetView get(@PathParam("name") String name) {
        return service.get(name);
    }
}
