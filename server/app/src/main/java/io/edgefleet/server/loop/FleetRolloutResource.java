package io.edgefleet.server.loop;

import io.edgefleet.server.loop.LoopDtos.FleetRolloutRequest;
import io.edgefleet.server.loop.LoopDtos.FleetRolloutView;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/** Deploys a model version to the fleet, each class with its own variant (own root path). */
@Path("/api/v1/models/{name}/versions/{version}/fleet-rollouts")
@Produces(MediaType.APPLICATION_JSON)
public class FleetRolloutResource {

    @Inject
    FleetRolloutService service;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Deploy a model to the fleet", description = "Every device class (or the listed ones) gets "
            + "the variant the class-variant registry holds for it, planned from this version, in one deployment "
            + "with waves per class. Classes without a variant, or whose deployment is refused, are listed in "
            + "'skipped' with the reason")
    @APIResponse(responseCode = "202", description = "The deployments were created, one per class; skipped classes with their reasons.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = FleetRolloutView.class)))
    @APIResponse(responseCode = "400", description = "An unknown class in classIds, a bad policy, or no class could "
            + "be deployed (NO_TARGETS, with every class's reason)")
    @APIResponse(responseCode = "404", description = "Unknown model version")
    public Response create(@Parameter(description = "Model name") @PathParam("name") String name,
            @Parameter(description = "The planned (unpruned) version") @PathParam("version") long version,
            @RequestBody(description = "Which classes (all when absent) and an optional wave policy for every class's deployment.") @Valid FleetRolloutRequest request) {
        FleetRolloutView view = service.create(name, version, request);
        return Response.accepted(view).build();
    }
}
