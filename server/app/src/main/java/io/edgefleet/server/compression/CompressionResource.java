package io.edgefleet.server.compression;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.core.Context;
import io.edgefleet.server.api.Pages;

import io.edgefleet.engine.report.ReportWriter;
import io.edgefleet.server.compression.CompressionDtos.JobView;
import io.edgefleet.server.compression.CompressionDtos.RecipeView;
import jakarta.inject.Inject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
/** Compression jobs and the recipes they can run; jobs are submitted on a model version ({@link CompressionSubmitResource}). */
@Tag(name = "Compression", description = "Compression recipes and jobs: quantize or prune a model version into a variant, gated on "
        + "accuracy and the class SLOs (docs/compression-jobs.md).")
public class CompressionResource {

    @Inject
    CompressionService service;

    @Operation(summary = "List compression recipes",
            description = "Every recipe a job can run, with its parameters, their defaults and what "
                    + "each accepts.")
    @APIResponse(responseCode = "200", description = "The recipes.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = RecipeView.class)))
    @GET
    @Path("/recipes")
    public List<RecipeView> recipes() {
        return service.recipes();
    }

    @Operation(summary = "List compression jobs",
            description = "Compression jobs, newest first, optionally of one model. A page of at most "
                    + "limit items; when more follow, X-Next-Cursor and Link: <...>; rel=\"next\" "
                    + "point at the next page.")
    @APIResponse(responseCode = "200", description = "One page of jobs, newest first.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = JobView.class)))
    @APIResponse(responseCode = "400", description = "limit is not an integer in 1..1000, or cursor is not one this API returned "
            + "(VALIDATION_FAILED).")
    @GET
    @Path("/compression-jobs")
    public Response list(@Parameter(description = "Only jobs on this model name.") @QueryParam("model") String model, @Parameter(description = "Page size, 1..1000 (default 500).") @QueryParam("limit") String limit, @Parameter(description = "Opaque cursor from the previous page's X-Next-Cursor header (or Link "
                    + "rel=\"next\"); absent for the first page.") @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(Pages.slice(listAll(model), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                j -> String.format("%019d", Long.MAX_VALUE - j.createdAt()) + j.id()), uri);
    }

    private List<JobView> listAll(String model) {
        return service.list(model);
    }

    @Operation(summary = "Get a compression job",
            description = "One job: its request, progress, and once finished its result.")
    @APIResponse(responseCode = "200", description = "The job.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = JobView.class)))
    @APIResponse(responseCode = "404", description = "No job with this id (NOT_FOUND).")
    @GET
    @Path("/compression-jobs/{id}")
    public JobView get(@Parameter(description = "Job id.") @PathParam("id") String id) {
        return service.get(id);
    }

    @Operation(summary = "Get a job's report as Markdown",
            description = "The compression report of a finished job: what was done, accuracy and "
                    + "latency against the baseline, the gate verdict.")
    @APIResponse(responseCode = "200", description = "The report.",
            content = @Content(mediaType = "text/markdown", schema = @Schema(type = SchemaType.STRING)))
    @APIResponse(responseCode = "404", description = "No job with this id, or it has no report yet (NOT_FOUND).")
    @GET
    @Path("/compression-jobs/{id}/report.md")
    @Produces("text/markdown; charset=utf-8")
    public String reportMarkdown(@Parameter(description = "Job id.") @PathParam("id") String id) {
        return service.reportMarkdown(id);
    }

    @Operation(summary = "Get a job's report as HTML",
            description = "The same report as a standalone HTML page.")
    @APIResponse(responseCode = "200", description = "The report page.",
            content = @Content(mediaType = "text/html", schema = @Schema(type = SchemaType.STRING)))
    @APIResponse(responseCode = "404", description = "No job with this id, or it has no report yet (NOT_FOUND).")
    @GET
    @Path("/compression-jobs/{id}/report.html")
    @Produces("text/html; charset=utf-8")
    public String reportHtml(@Parameter(description = "Job id.") @PathParam("id") String id) {
        return ReportWriter.htmlPage(service.reportMarkdown(id), "compression job " + id);
    }

    @Operation(summary = "Cancel a compression job",
            description = "Cancels a queued or running job. A job that already finished is returned "
                    + "unchanged with 200.")
    @APIResponse(responseCode = "200", description = "The job had already finished; unchanged.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = JobView.class)))
    @APIResponse(responseCode = "202", description = "Cancellation requested; the job stops at its next checkpoint.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = JobView.class)))
    @APIResponse(responseCode = "404", description = "No job with this id (NOT_FOUND).")
    @DELETE
    @Path("/compression-jobs/{id}")
    public Response cancel(@Parameter(description = "Job id.") @PathParam("id") String id) {
        JobView job = service.cancel(id);
        return Response.status(job.status().terminal() ? 200 : 202).entity(job).build();
    }

}
