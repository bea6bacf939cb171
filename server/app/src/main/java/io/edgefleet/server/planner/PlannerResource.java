package io.edgefleet.server.planner;

import io.edgefleet.server.planner.PlanDtos.PlanView;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
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

/** Plans: progress and plan JSON, the HTML page with the Pareto plot, cancel. */
@Path("/api/v1/plans")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Planner", description = "Plans: search compression variants per device class and register the best one that meets "
        + "the class SLOs (docs/planner.md).")
public class PlannerResource {

    @Inject
    PlannerService service;

    @Operation(summary = "List plans",
            description = "The newest 200 plans, newest first, optionally of one model.")
    @APIResponse(responseCode = "200", description = "The plans.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = PlanView.class)))
    @GET
    public List<PlanView> list(@Parameter(description = "Only plans of this model name.") @QueryParam("model") String model) {
        return service.list(model);
    }

    @Operation(summary = "Get a plan",
            description = "One plan: progress, choice and, once finished, the plan JSON.")
    @APIResponse(responseCode = "200", description = "The plan.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = PlanView.class)))
    @APIResponse(responseCode = "404", description = "No plan with this id (NOT_FOUND).")
    @GET
    @Path("/{id}")
    public PlanView get(@Parameter(description = "Plan id.") @PathParam("id") String id) {
        return service.get(id);
    }

    @Operation(summary = "Get a plan's page",
            description = "The plan as an HTML page with the Pareto plot of its candidates.")
    @APIResponse(responseCode = "200", description = "The page.",
            content = @Content(mediaType = "text/html", schema = @Schema(type = SchemaType.STRING)))
    @APIResponse(responseCode = "404", description = "No plan with this id (NOT_FOUND).")
    @GET
    @Path("/{id}/page")
    @Produces("text/html; charset=utf-8")
    public String page(@Parameter(description = "Plan id.") @PathParam("id") String id) {
        return service.page(id);
    }

    @Operation(summary = "Cancel a plan",
            description = "Cancels a queued or running plan. A plan that already finished is returned "
                    + "unchanged with 200.")
    @APIResponse(responseCode = "200", description = "The plan had already finished; unchanged.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = PlanView.class)))
    @APIResponse(responseCode = "202", description = "Cancellation requested.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = PlanView.class)))
    @APIResponse(responseCode = "404", description = "No plan with this id (NOT_FOUND).")
    @POST
    @Path("/{id}/cancel")
    public Response cancel(@Parameter(description = "Plan id.") @PathParam("id") String id) {
        PlanView plan = service.cancel(id);
        return Response.status(plan.status().terminal() ? 200 : 202).entity(plan).build();
    }
}
