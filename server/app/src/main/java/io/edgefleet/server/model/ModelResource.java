package io.edgefleet.server.model;
import jakarta.ws.rs.QueryParam;
import io.edgefleet.server.api.Pages;

import io.edgefleet.server.model.ModelDtos.ModelSummary;
import io.edgefleet.server.model.ModelDtos.ModelVersionView;
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

@Path("/api/v1/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {
    public static final String ONNX_MEDIA_TYPE = "application/x-onnx";

    @Inject
    ModelService service;

    /** The raw .onnx bytes are the body; nothing else is accepted, so the file never passes through a form parser. */
    @POST
    @Path("/{name}/versions")
    @Consumes({MediaType.APPLICATION_OCTET_STREAM, ONNX_MEDIA_TYPE})
    public Response upload(@PathParam("name") String name, @HeaderParam(HttpHeaders.CONTENT_LENGTH) Long contentLength,
                           InputStream body, @Context UriInfo uri) {
        ModelVersionView created = service.register(name, body, contentLength);
        return Response.created(uri.getAbsolutePathBuilder().path(String.valueOf(created.version())).build())
                .entity(created).build();
    }

    @GET
    public Response list(@QueryParam("limit") String limit, @QueryParam("cursor") String cursor,
                         @Context UriInfo uri) {
        return Pages.response(Pages.slice(listAll(), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                ModelSummary::name), uri);
    }

    private List<ModelSummary> listAll() {
        return service.list();
    }

    @GET
    @Path("/{name}/versions")
    public Response versions(@PathParam("name") String name, @QueryParam("limit") String limit, @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(Pages.slice(versionsAll(name), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                v -> String.format("%019d", v.version())), uri);
    }

    private List<ModelVersionView> versionsAll(String name) {
        return service.versions(name);
    }

    @GET
    @Path("/{name}/versions/{version}")
    public ModelVersionView version(@PathParam("name") String name, @PathParam("version") long version) {
        return service.version(name, version);
    }

    @GET
    @Path("/{name}/versions/{version}/artifact")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public Response artifact(@PathParam("name") String name, @PathParam("version") long version) {
        ModelVersionView v = service.version(name, version);
        return Response.ok(service.artifactPath(v.sha256()).toFile(), MediaType.APPLICATION_OCTET_STREAM_TYPE)
                .header(HttpHeaders.ETAG, "\"" + v.sha256() + "\"")
                .header("Content-Disposition", "attachment; filename=\"" + name + "-" + version + ".onnx\"")
                .build();
    }
}
