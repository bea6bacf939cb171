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
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

@Path("/api/v1/deployments")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Deployments", description = "Rollouts of a model version to devices, in waves with gates, pause/resume/abort and "
        + "rollback (docs/rollouts.md).")
public class DeploymentResource {

    @Inject
    RolloutService rollouts;

    /** 202: targets start PENDING; the artifact and the commands go out in the background. */
    @Operation(summary = "Create a deployment",
            description = "Starts deploying a model version to a class, tags or a device list. Targets "
                    + "start PENDING; the artifact and the signed commands go out in the "
                    + "background, wave by wave as the policy says.")
    @APIResponse(responseCode = "202", description = "Accepted; Location is the deployment.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DeploymentView.class)))
    @APIResponse(responseCode = "400", description = "Unknown model version (UNKNOWN_MODEL), class (UNKNOWN_DEVICE_CLASS) or device "
            + "(UNKNOWN_DEVICE), a revoked device (DEVICE_REVOKED), no device matches (NO_TARGETS), "
            + "the artifact exceeds the class limit (MODEL_EXCEEDS_CLASS_LIMIT), an invalid policy "
            + "or field (VALIDATION_FAILED), malformed JSON.")
    @APIResponse(responseCode = "411", description = "A JSON body sent without Content-Length (LENGTH_REQUIRED).")
    @APIResponse(responseCode = "413", description = "The body is larger than edgefleet.api.max-deployment-json-bytes (PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @POST
    public Response create(@RequestBody(description = "What to deploy where, the health check and the rollout policy.") @NotNull @Valid CreateDeploymentRequest request, @Context UriInfo uri) {
        DeploymentView view = rollouts.create(request);
        return Response.accepted(view).location(uri.getAbsolutePathBuilder().path(view.id()).build()).build();
    }

    @Operation(summary = "List deployments",
            description = "Deployments, newest first, with their target summary (without the per-target "
                    + "list). A page of at most limit items; when more follow, X-Next-Cursor and "
                    + "Link: <...>; rel=\"next\" point at the next page.")
    @APIResponse(responseCode = "200", description = "One page of deployments, newest first.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = DeploymentView.class)))
    @APIResponse(responseCode = "400", description = "limit is not an integer in 1..1000, or cursor is not one this API returned "
            + "(VALIDATION_FAILED).")
    @GET
    public Response list(@Parameter(description = "Page size, 1..1000 (default 500).") @QueryParam("limit") String limit, @Parameter(description = "Opaque cursor from the previous page's X-Next-Cursor header (or Link "
                    + "rel=\"next\"); absent for the first page.") @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(Pages.slice(listAll(), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                d -> String.format("%019d", Long.MAX_VALUE - d.createdAt()) + d.id()), uri);
    }

    private List<DeploymentView> listAll() {
        return rollouts.list();
    }

    @Operation(summary = "Get a deployment",
            description = "One deployment with every target, the per-wave tally, the policy and, if it "
                    + "halted, why.")
    @APIResponse(responseCode = "200", description = "The deployment.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DeploymentView.class)))
    @APIResponse(responseCode = "404", description = "No deployment with this id (NOT_FOUND).")
    @GET
    @Path("/{id}")
    public DeploymentView get(@Parameter(description = "Deployment id.") @PathParam("id") String id) {
        return rollouts.get(id);
    }

    /** Holds the deployment: no new wave, no new commands; devices already sent go on. 409 unless IN_PROGRESS. */
    @Operation(summary = "Pause a deployment",
            description = "Holds an IN_PROGRESS deployment: no new wave and no new commands; devices "
                    + "already sent go on.")
    @APIResponse(responseCode = "200", description = "Paused.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DeploymentView.class)))
    @APIResponse(responseCode = "404", description = "No deployment with this id (NOT_FOUND).")
    @APIResponse(responseCode = "409", description = "Not IN_PROGRESS (CONFLICT).")
    @POST
    @Path("/{id}/pause")
    public DeploymentView pause(@Parameter(description = "Deployment id.") @PathParam("id") String id) {
        return rollouts.pause(id);
    }

    /** Continues a PAUSED deployment where it stopped. */
    @Operation(summary = "Resume a deployment",
            description = "Continues a PAUSED deployment where it stopped.")
    @APIResponse(responseCode = "200", description = "Running again.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DeploymentView.class)))
    @APIResponse(responseCode = "404", description = "No deployment with this id (NOT_FOUND).")
    @APIResponse(responseCode = "409", description = "Not PAUSED (CONFLICT).")
    @POST
    @Path("/{id}/resume")
    public DeploymentView resume(@Parameter(description = "Deployment id.") @PathParam("id") String id) {
        return rollouts.resume(id);
    }

    /** Halts the deployment (ABORTED): devices that activated it roll back, the others are cancelled. */
    @Operation(summary = "Abort a deployment",
            description = "Halts the deployment (ABORTED): devices that activated it roll back, the "
                    + "others are cancelled. The body is optional.")
    @APIResponse(responseCode = "200", description = "Aborted.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = DeploymentView.class)))
    @APIResponse(responseCode = "400", description = "Malformed JSON (MALFORMED_JSON), or a field missing or out of bounds "
            + "(VALIDATION_FAILED, with fields naming each).")
    @APIResponse(responseCode = "404", description = "No deployment with this id (NOT_FOUND).")
    @APIResponse(responseCode = "409", description = "The deployment already ended (CONFLICT).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @POST
    @Path("/{id}/abort")
    public DeploymentView abort(@Parameter(description = "Deployment id.") @PathParam("id") String id, @RequestBody(description = "Optional reason.") @Valid DeploymentDtos.AbortRequest request) {
        return rollouts.abort(id, request == null ? null : request.reason());
    }

    @Operation(summary = "Roll a deployment back",
            description = "Sends every device that activated the deployment back to its previous model "
                    + "(signed ROLLBACK commands) and stops the rest. Answers once the broker "
                    + "acknowledged the commands, or after a short timeout (the rest keep being "
                    + "retried). The body is optional.")
    @APIResponse(responseCode = "202", description = "Rollback under way.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = RollbackResult.class)))
    @APIResponse(responseCode = "400", description = "Malformed JSON (MALFORMED_JSON), or a field missing or out of bounds "
            + "(VALIDATION_FAILED, with fields naming each).")
    @APIResponse(responseCode = "404", description = "No deployment with this id (NOT_FOUND).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @APIResponse(responseCode = "503", description = "The server is not connected to the broker; nothing was sent (BROKER_UNAVAILABLE).")
    @POST
    @Path("/{id}/rollback")
    public Response rollback(@Parameter(description = "Deployment id.") @PathParam("id") String id, @RequestBody(description = "Optional reason.") @Valid RollbackRequest request) {
        RollbackResult result = rollouts.rollback(id, request == null ? null : request.reason());
        return Response.accepted(result).build();
    }
}
