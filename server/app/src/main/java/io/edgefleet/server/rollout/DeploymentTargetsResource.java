package io.edgefleet.server.rollout;

import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.Pages;
import io.edgefleet.server.rollout.DeploymentDtos.TargetView;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import org.hibernate.Session;

/** A deployment's targets one page at a time, in device id order, optionally of one state. */
@Path("/api/v1/deployments/{id}/targets")
@Produces(MediaType.APPLICATION_JSON)
public class DeploymentTargetsResource {
    @Inject
    Session session;

    @GET
    @Transactional
    public Response list(@PathParam("id") String id, @QueryParam("state") String state,
                         @QueryParam("limit") String limit, @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        if (session.find(DeploymentEntity.class, id) == null) {
            throw ApiException.notFound("deployment", id);
        }
        TargetState wanted = null;
        if (state != null && !state.isBlank()) {
            try {
                wanted = TargetState.valueOf(state.trim());
            } catch (IllegalArgumentException e) {
                throw new ApiException(io.edgefleet.server.api.ErrorCode.VALIDATION_FAILED,
                        "state must be one of " + java.util.Arrays.toString(TargetState.values()) + ", not '" + state + "'");
            }
        }
        int n = Pages.limit(limit, Pages.DEFAULT_LIMIT);
        String after = Pages.key(cursor);
        var query = session.createSelectionQuery("from DeploymentTargetEntity t"
                        + " where t.deploymentId = :dep and t.deviceId > :after"
                        + (wanted == null ? "" : " and t.state = :state") + " order by t.deviceId", DeploymentTargetEntity.class)
                .setParameter("dep", id).setParameter("after", after == null ? "" : after);
        if (wanted != null) {
            query.setParameter("state", wanted);
        }
        List<DeploymentTargetEntity> rows = query.setMaxResults(n + 1).getResultList();
        Pages.Page<DeploymentTargetEntity> page = Pages.of(rows, n, t -> t.deviceId);
        return Pages.response(new Pages.Page<>(page.items().stream().map(TargetView::of).toList(), page.nextCursor()), uri);
    }
}
