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
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/api/v1/models")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Models", description = "Model registry: ONNX uploads, versions and their artifacts.")
public class ModelResource {
    public static final String ONNX_MEDIA_TYPE = "application/x-onnx";

    @Inject
    ModelService service;

    /** The raw .onnx bytes are the body; nothing else is accepted, so the file never passes through a form parser. */
    @Operation(summary = "Upload a model version",
            description = "Registers an ONNX file as the next version of a model; the raw bytes are the "
                    + "body (application/octet-stream or application/x-onnx). The file is checked "
                    + "by parsing it with ONNX Runtime.")
    @APIResponse(responseCode = "201", description = "Registered; Location names the new version.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = ModelVersionView.class)))
    @APIResponse(responseCode = "400", description = "Not a readable ONNX model (INVALID_MODEL) or an invalid name (INVALID_ID).")
    @APIResponse(responseCode = "413", description = "Larger than edgefleet.models.max-upload-bytes (PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "Neither application/octet-stream nor application/x-onnx (UNSUPPORTED_MEDIA_TYPE).")
    @POST
    @Path("/{name}/versions")
    @Consumes({MediaType.APPLICATION_OCTET_STREAM, ONNX_MEDIA_TYPE})
    public Response upload(@Parameter(description = "Model name: 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter "
                    + "or digit.") @PathParam("name") String name, @Parameter(description = "Size of the upload; checked against edgefleet.models.max-upload-bytes before "
                    + "reading.") @HeaderParam(HttpHeaders.CONTENT_LENGTH) Long contentLength,
                           @RequestBody(description = "The raw bytes of the .onnx file.") InputStream body, @Context UriInfo uri) {
        ModelVersionView created = service.register(name, body, contentLength);
        return Response.created(uri.getAbsolutePathBuilder().path(String.valueOf(created.version())).build())
                .entity(created).build();
    }

    @Operation(summary = "List models",
            description = "Models in name order, each with its newest version. A page of at most limit "
                    + "items; when more follow, X-Next-Cursor and Link: <...>; rel=\"next\" point "
                    + "at the next page.")
    @APIResponse(responseCode = "200", description = "One page of models, by name.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = ModelSummary.class)))
    @APIResponse(responseCode = "400", description = "limit is not an integer in 1..1000, or cursor is not one this API returned "
            + "(VALIDATION_FAILED).")
    @GET
    public Response list(@Parameter(description = "Page size, 1..1000 (default 500).") @QueryParam("limit") String limit, @Parameter(description = "Opaque cursor from the previous page's X-Next-Cursor header (or Link "
                    + "rel=\"next\"); absent for the first page.") @QueryParam("cursor") String cursor,
                         @Context UriInfo uri) {
        return Pages.response(Pages.slice(listAll(), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                ModelSummary::name), uri);
    }

    private List<ModelSummary> listAll() {
        return service.list();
    }

    @Operation(summary = "List a model's versions",
            description = "Versions of one model, oldest first. A page of at most limit items; when "
                    + "more follow, X-Next-Cursor and Link: <...>; rel=\"next\" point at the next "
                    + "page.")
    @APIResponse(responseCode = "200", description = "One page of versions, oldest first.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = ModelVersionView.class)))
    @APIResponse(responseCode = "400", description = "limit is not an integer in 1..1000, or cursor is not one this API returned "
            + "(VALIDATION_FAILED).")
    @APIResponse(responseCode = "404", description = "No model with this name (NOT_FOUND).")
    @GET
    @Path("/{name}/versions")
    public Response versions(@Parameter(description = "Model name.") @PathParam("name") String name, @Parameter(description = "Page size, 1..1000 (default 500).") @QueryParam("limit") String limit, @Parameter(description = "Opaque cursor from the previous page's X-Next-Cursor header (or Link "
                    + "rel=\"next\"); absent for the first page.") @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(Pages.slice(versionsAll(name), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                v -> String.format("%019d", v.version())), uri);
    }

    private List<ModelVersionView> versionsAll(String name) {
        return service.versions(name);
    }

    @Operation(summary = "Get a model version",
            description = "One model version: hash, size, ONNX metadata, inputs and outputs, lineage.")
    @APIResponse(responseCode = "200", description = "The version.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = ModelVersionView.class)))
    @APIResponse(responseCode = "404", description = "No such model version (NOT_FOUND).")
    @GET
    @Path("/{name}/versions/{version}")
    public ModelVersionView version(@Parameter(description = "Model name.") @PathParam("name") String name, @Parameter(description = "Version number.") @PathParam("version") long version) {
        return service.version(name, version);
    }

    @Operation(summary = "Download a model artifact",
            description = "The ONNX file of a model version; ETag is its SHA-256.")
    @APIResponse(responseCode = "200", description = "The .onnx file.",
            content = @Content(mediaType = "application/octet-stream", schema = @Schema(type = SchemaType.STRING, format = "binary")))
    @APIResponse(responseCode = "404", description = "No such model version (NOT_FOUND).")
    @GET
    @Path("/{name}/versions/{version}/artifact")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public Response artifact(@Parameter(description = "Model name.") @PathParam("name") String name, @Parameter(description = "Version number.") @PathParam("version") long version) {
        ModelVersionView v = service.version(name, version);
        return Response.ok(service.artifactPath(v.sha256()).toFile(), MediaType.APPLICATION_OCTET_STREAM_TYPE)
                .header(HttpHeaders.ETAG, "\"" + v.sha256() + "\"")
                .header("Content-Disposition", "attachment; filename=\"" + name + "-" + version + ".onnx\"")
                .build();
    }
}
