package io.edgefleet.server.planner;

import io.edgefleet.server.planner.PlanDtos.PlanRequest;
import io.edgefleet.server.planner.PlanDtos.PlanView;
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

/** Starts a plan for a model version and a device class (own root path, as the compression submit resource). */
@Path("/api/v1/models/{name}/versions/{version}/plans")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Planner", description = "Plans: search compression variants per device class and register the best one that meets "
        + "the class SLOs (docs/planner.md).")
public class PlanSubmitResource {

    @Inject
    PlannerService service;

    @Operation(summary = "Start a plan",
            description = "Queues a search over compression variants of a model version for one device "
                    + "class; poll the plan (Location). A choice is registered as a new model "
                    + "version and as the class's variant.")
    @APIResponse(responseCode = "202", description = "Queued; Location is the plan.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = PlanView.class)))
    @APIResponse(responseCode = "400", description = "Unknown device class (UNKNOWN_DEVICE_CLASS) or dataset, a dataset not fitting the "
            + "model (INVALID_DATASET), a model that cannot be run (INVALID_MODEL), a field out of "
            + "bounds (VALIDATION_FAILED), malformed JSON.")
    @APIResponse(responseCode = "404", description = "No such model version (NOT_FOUND).")
    @APIResponse(responseCode = "411", description = "A JSON body sent without Content-Length (LENGTH_REQUIRED).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @APIResponse(responseCode = "503", description = "The job queue is full (COMPRESSION_QUEUE_FULL); retry later.")
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response submit(@Parameter(description = "Model name.") @PathParam("name") String name, @Parameter(description = "Model version to plan from.") @PathParam("version") long version,
                           @RequestBody(description = "The device class, datasets and search budget.") @Valid @NotNull PlanRequest request) {
        PlanView plan = service.submit(name, version, request);
        return Response.accepted(plan).location(UriBuilder.fromPath("/api/v1/plans/{id}").build(plan.id())).build();
    }
}
