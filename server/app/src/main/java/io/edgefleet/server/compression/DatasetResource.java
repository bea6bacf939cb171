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
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/api/v1/datasets")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Datasets", description = "Datasets (.npz) for calibration, validation and drift reference profiles.")
public class DatasetResource {

    @Inject
    DatasetService service;

    /** The raw .npz bytes are the body (as for models: no form parsing of a large file). */
    @Operation(summary = "Upload a dataset",
            description = "Stores a NumPy .npz file under a name; the raw bytes are the body "
                    + "(application/octet-stream). Uploading the same bytes again under the same "
                    + "name is idempotent (200).")
    @APIResponse(responseCode = "200", description = "These bytes were already stored under this name; nothing changed.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DatasetView.class)))
    @APIResponse(responseCode = "201", description = "Stored; Location names it.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DatasetView.class)))
    @APIResponse(responseCode = "400", description = "Not a valid .npz (INVALID_DATASET) or an invalid name (INVALID_ID).")
    @APIResponse(responseCode = "409", description = "The name is taken by different bytes (ALREADY_EXISTS).")
    @APIResponse(responseCode = "413", description = "Larger than edgefleet.datasets.max-upload-bytes (PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "Not application/octet-stream (UNSUPPORTED_MEDIA_TYPE).")
    @POST
    @Path("/{name}")
    @Consumes(MediaType.APPLICATION_OCTET_STREAM)
    public Response upload(@Parameter(description = "Dataset name: 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter "
                    + "or digit.") @PathParam("name") String name, @Parameter(description = "Size of the upload; checked against edgefleet.datasets.max-upload-bytes "
                    + "before reading.") @HeaderParam(HttpHeaders.CONTENT_LENGTH) Long contentLength,
                           @RequestBody(description = "The raw bytes of a NumPy .npz file (arrays named after the model inputs; optional labels and cohort).") InputStream body, @Context UriInfo uri) {
        DatasetService.Registered r = service.register(name, body, contentLength);
        if (!r.created()) {
            return Response.ok(r.view()).build(); // the same bytes again: idempotent
        }
        return Response.created(uri.getAbsolutePath()).entity(r.view()).build();
    }

    @Operation(summary = "List datasets",
            description = "Stored datasets in name order. A page of at most limit items; when more "
                    + "follow, X-Next-Cursor and Link: <...>; rel=\"next\" point at the next page.")
    @APIResponse(responseCode = "200", description = "One page of datasets, by name.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = DatasetView.class)))
    @APIResponse(responseCode = "400", description = "limit is not an integer in 1..1000, or cursor is not one this API returned "
            + "(VALIDATION_FAILED).")
    @GET
    public Response list(@Parameter(description = "Page size, 1..1000 (default 500).") @QueryParam("limit") String limit, @Parameter(description = "Opaque cursor from the previous page's X-Next-Cursor header (or Link "
                    + "rel=\"next\"); absent for the first page.") @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(Pages.slice(service.list(), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                DatasetView::name), uri);
    }

    @Operation(summary = "Get a dataset",
            description = "One dataset: its arrays, sample count, labels and cohort. Captured datasets' names contain"
                    + " slashes (capture/{class}/{model}/{time}), hence the path pattern.")
    @APIResponse(responseCode = "200", description = "The dataset.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DatasetView.class)))
    @APIResponse(responseCode = "404", description = "No dataset with this name (NOT_FOUND).")
    @GET
    @Path("/{name: .+}")
    public DatasetView get(@Parameter(description = "Dataset name.") @PathParam("name") String name) {
        return service.get(name);
    }
}
