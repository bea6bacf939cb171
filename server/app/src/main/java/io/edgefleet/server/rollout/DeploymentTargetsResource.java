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
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** A deployment's targets one page at a time, in device id order, optionally of one state. */
@Path("/api/v1/deployments/{id}/targets")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Deployments", description = "Rollouts of a model version to devices, in waves with gates, pause/resume/abort and "
        + "rollback (docs/rollouts.md).")
public class DeploymentTargetsResource {
    @Inject
    Session session;

    @Operation(summary = "List a deployment's targets",
            description = "The targets of a deployment in device id order, optionally of one state. A "
                    + "page of at most limit items; when more follow, X-Next-Cursor and Link: "
                    + "<...>; rel=\"next\" point at the next page.")
    @APIResponse(responseCode = "200", description = "One page of targets, by device id.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = io.edgefleet.server.rollout.DeploymentDtos.TargetView.class)))
    @APIResponse(responseCode = "400", description = "An unknown state, or a bad limit or cursor (VALIDATION_FAILED).")
    @APIResponse(responseCode = "404", description = "No deployment with this id (NOT_FOUND).")
    @GET
    @Transactional
    public Response list(@Parameter(description = "Deployment id.") @PathParam("id") String id, @Parameter(description = "Only targets in this state (PENDING, SENT, DOWNLOADING, ACTIVATED, "
                    + "COMMITTED, ROLLED_BACK, FAILED, TIMED_OUT, CANCELLED).") @QueryParam("state") String state,
                         @Parameter(description = "Page size, 1..1000 (default 500).") @QueryParam("limit") String limit, @Parameter(description = "Opaque cursor from the previous page's X-Next-Cursor header (or Link "
                    + "rel=\"next\"); absent for the first page.") @QueryParam("cursor") String cursor, @Context UriInfo uri) {
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
