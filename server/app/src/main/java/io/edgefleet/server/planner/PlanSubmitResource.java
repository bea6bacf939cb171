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

/** Starts a plan for a model version and a device class (own root path, as the compression submit resource). */
@Path("/api/v1/models/{name}/versions/{version}/plans")
@Produces(MediaType.APPLICATION_JSON)
public class PlanSubmitResource {

    @Inject
    PlannerService service;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response submit(@PathParam("name") String name, @PathParam("version") long version,
                           @Valid @NotNull PlanRequest request) {
        PlanView plan = service.submit(name, version, request);
        return Response.accepted(plan).location(UriBuilder.fromPath("/api/v1/plans/{id}").build(plan.id())).build();
    }
}
