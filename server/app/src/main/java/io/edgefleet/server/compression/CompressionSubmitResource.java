package io.edgefleet.server.compression;

import io.edgefleet.server.compression.CompressionDtos.JobRequest;
import io.edgefleet.server.compression.CompressionDtos.JobView;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Starts a compression job on a model version. Its own root path: JAX-RS matches the longest root resource path
 * first, so under {@code /api/v1} it would be shadowed by the model registry's {@code /api/v1/models}.
 */
@Path("/api/v1/models/{name}/versions/{version}/compressions")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Compression", description = "Compression recipes and jobs: quantize or prune a model version into a variant, gated on "
        + "accuracy and the class SLOs (docs/compression-jobs.md).")
public class CompressionSubmitResource {

    @Inject
    CompressionService service;

    @Operation(summary = "Start a compression job",
            description = "Queues a job that applies a recipe to a model version; poll the job "
                    + "(Location) for progress. A variant the gate accepts becomes a new model "
                    + "version.")
    @APIResponse(responseCode = "202", description = "Queued; Location is the job.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = JobView.class)))
    @APIResponse(responseCode = "400", description = "Invalid request: unknown recipe (UNKNOWN_RECIPE), dataset (UNKNOWN_DATASET) or "
            + "device class (UNKNOWN_DEVICE_CLASS), a parameter out of bounds (VALIDATION_FAILED), "
            + "malformed JSON.")
    @APIResponse(responseCode = "404", description = "No such model version (NOT_FOUND).")
    @APIResponse(responseCode = "411", description = "A JSON body sent without Content-Length (LENGTH_REQUIRED).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @APIResponse(responseCode = "503", description = "The job queue is full, edgefleet.compression.max-queued (COMPRESSION_QUEUE_FULL); "
            + "retry later.")
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response submit(@Parameter(description = "Model name.") @PathParam("name") String name, @Parameter(description = "Model version to compress.") @PathParam("version") long version,
                           @RequestBody(description = "The recipe, its parameters, datasets and budget.") @Valid @NotNull JobRequest request) {
        JobView job = service.submit(name, version, request);
        return Response.accepted(job)
                .location(UriBuilder.fromPath("/api/v1/compression-jobs/{id}").build(job.id()))
                .build();
    }
}
