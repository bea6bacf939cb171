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

/** Plans: progress and plan JSON, the HTML page with the Pareto plot, cancel. */
@Path("/api/v1/plans")
@Produces(MediaType.APPLICATION_JSON)
public class PlannerResource {

    @Inject
    PlannerService service;

    @GET
    public List<PlanView> list(@QueryParam("model") String model) {
        return service.list(model);
    }

    @GET
    @Path("/{id}")
    public PlanView get(@PathParam("id") String id) {
        return service.get(id);
    }

    @GET
    @Path("/{id}/page")
    @Produces("text/html; charset=utf-8")
    public String page(@PathParam("id") String id) {
        return service.page(id);
    }

    @POST
    @Path("/{id}/cancel")
    public Response cancel(@PathParam("id") String id) {
        PlanView plan = service.cancel(id);
        return Response.status(plan.status().terminal() ? 200 : 202).entity(plan).build();
    }
}
