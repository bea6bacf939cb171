package io.edgefleet.server.loop;

import io.edgefleet.server.loop.LoopDtos.LoopView;
import io.edgefleet.server.loop.LoopDtos.RejectRequest;
import io.edgefleet.server.security.ApiTokenFilter;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/** The closed loop's audit trail and its approvals. */
@Path("/api/v1/loops")
@Produces(MediaType.APPLICATION_JSON)
public class LoopResource {

    @Inject
    LoopService loops;

    @GET
    @Operation(summary = "List closed loops", description = "Newest first: each alert-driven loop with its decision, "
            + "re-plan, variant, canary deployment, outcome and timestamps")
    @APIResponse(responseCode = "200", description = "Loops, newest first.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = LoopView.class)))
    @APIResponse(responseCode = "400", description = "Unknown state or a limit outside 1..1000")
    public List<LoopView> list(
            @Parameter(description = "Only this device class") @QueryParam("classId") String classId,
            @Parameter(description = "Only loops in this state") @QueryParam("state") String state,
            @Parameter(description = "At most this many (1..1000)") @QueryParam("limit") @DefaultValue("100")
            int limit) {
        return loops.list(classId, state, limit);
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "One closed loop", description = "The audit trail of one loop: alert, rule, decision and its "
            + "reason, re-plan job, chosen variant, canary deployment, outcome and every transition")
    @APIResponse(responseCode = "200", description = "The loop.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = LoopView.class)))
    @APIResponse(responseCode = "404", description = "Unknown loop")
    public LoopView get(@Parameter(description = "Loop id") @PathParam("id") String id) {
        return loops.get(id);
    }

    @POST
    @Path("/{id}/approve")
    @Operation(summary = "Approve a loop", description = "A loop awaiting approval (class mode approve) starts its "
            + "re-plan at the next loop pass")
    @APIResponse(responseCode = "200", description = "The loop, approved.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = LoopView.class)))
    @APIResponse(responseCode = "404", description = "Unknown loop")
    @APIResponse(responseCode = "409", description = "The loop is not awaiting approval, or another loop of the class "
            + "is running")
    public LoopView approve(@Context ContainerRequestContext ctx, @Parameter(description = "Loop id") @PathParam("id") String id) {
        return loops.approve(id, ApiTokenFilter.actor(ctx));
    }

    @POST
    @Path("/{id}/reject")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Reject a loop", description = "A loop awaiting approval ends REJECTED; nothing is planned "
            + "or deployed")
    @APIResponse(responseCode = "200", description = "The loop, rejected.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = LoopView.class)))
    @APIResponse(responseCode = "400", description = "Malformed JSON or a reason over its bound (MALFORMED_JSON, VALIDATION_FAILED)")
    @APIResponse(responseCode = "413", description = "Body over the JSON bound (PAYLOAD_TOO_LARGE)")
    @APIResponse(responseCode = "415", description = "Content-Type is not application/json (UNSUPPORTED_MEDIA_TYPE)")
    @APIResponse(responseCode = "404", description = "Unknown loop")
    @APIResponse(responseCode = "409", description = "The loop is not awaiting approval")
    public LoopView reject(@Context ContainerRequestContext ctx, @Parameter(description = "Loop id") @PathParam("id") String id,
            @RequestBody(description = "Why the loop is rejected (optional).") @Valid RejectRequest request) {
        return loops.reject(id, request == null ? null : request.reason(), ApiTokenFilter.actor(ctx));
    }
}
