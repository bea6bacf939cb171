package io.edgefleet.server.rollout;
import jakarta.ws.rs.QueryParam;
import io.edgefleet.server.api.Pages;

import io.edgefleet.server.rollout.DeploymentDtos.CreateDeploymentRequest;
import io.edgefleet.server.rollout.DeploymentDtos.DeploymentView;
import io.edgefleet.server.rollout.DeploymentDtos.RollbackRequest;
import io.edgefleet.server.rollout.DeploymentDtos.RollbackResult;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;

@Path("/api/v1/deployments")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class DeploymentResource {

    @Inject
    RolloutService rollouts;

    /** 202: targets start PENDING; the artifact and the commands go out in the background. */
    @POST
    public Response create(@NotNull @Valid CreateDeploymentRequest request, @Context UriInfo uri) {
        DeploymentView view = rollouts.create(request);
        return Response.accepted(view).location(uri.getAbsolutePathBuilder().path(view.id()).build()).build();
    }

    @GET
    public Response list(@QueryParam("limit") String limit, @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(Pages.slice(listAll(), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                d -> String.format("%019d", Long.MAX_VALUE - d.createdAt()) + d.id()), uri);
    }

    private List<DeploymentView> listAll() {
        return rollouts.list();
    }

    @GET
    @Path("/{id}")
    public DeploymentView get(@PathParam("id") String id) {
        return rollouts.get(id);
    }

    /** Holds the deployment: no new wave, no new commands; devices already sent go on. 409 unless IN_PROGRESS. */
    @POST
    @Path("/{id}/pause")
    public DeploymentView pause(@PathParam("id") String id) {
        return rollouts.pause(id);
    }

    /** Continues a PAUSED deployment where it stopped. */
    @POST
    @Path("/{id}/resume")
    public DeploymentView resume(@PathParam("id") String id) {
        return rollouts.resume(id);
    }

    /** Halts the deployment (ABORTED): devices that activated it roll back, the others are cancelled. */
    @POST
    @Path("/{id}/abort")
    public DeploymentView abort(@PathParam("id") String id, @Valid DeploymentDtos.AbortRequest request) {
        return rollouts.abort(id, request == null ? null : request.reason());
    }

    @POST
    @Path("/{id}/rollback")
    public Response rollback(@PathParam("id") String id, @Valid RollbackRequest request) {
        RollbackResult result = rollouts.rollback(id, request == null ? null : request.reason());
        return Response.accepted(result).build();
    }
}
