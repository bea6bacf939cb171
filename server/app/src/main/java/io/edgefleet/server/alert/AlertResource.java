package io.edgefleet.server.alert;

import io.edgefleet.server.alert.AlertDtos.AlertView;
import io.edgefleet.server.alert.AlertDtos.RecompressionView;
import io.edgefleet.server.alert.AlertDtos.RuleRequest;
import io.edgefleet.server.alert.AlertDtos.RuleView;
import jakarta.inject.Inject;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
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

/** {@code /api/v1/alert-rules}, {@code /api/v1/alerts}, {@code /api/v1/recompression-requests}. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Alerts", description = "Alert rules, the alerts they raise, and the re-compression requests RECOMPRESS actions "
        + "record (docs/alerts.md).")
public class AlertResource {

    @Inject
    AlertRuleService rules;

    @Inject
    AlertService alerts;

    @Operation(summary = "List alert rules",
            description = "Every alert rule, the built-in ones included, with defaults filled in.")
    @APIResponse(responseCode = "200", description = "The rules, by id.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = RuleView.class)))
    @GET
    @Path("/alert-rules")
    public List<RuleView> rules() {
        return rules.list();
    }

    @Operation(summary = "Create an alert rule",
            description = "Creates a rule; fields left out take the documented defaults. The rule is "
                    + "evaluated from the next evaluation on.")
    @APIResponse(responseCode = "201", description = "Created; Location names the new rule.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = RuleView.class)))
    @APIResponse(responseCode = "400", description = "Invalid JSON or rule: unknown metric (UNKNOWN_METRIC), a bad field "
            + "(VALIDATION_FAILED, fields name each).")
    @APIResponse(responseCode = "409", description = "A rule with this id exists (ALREADY_EXISTS).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @POST
    @Path("/alert-rules")
    public Response create(@RequestBody(description = "The rule.") @NotNull RuleRequest request, @Context UriInfo uri) {
        RuleView created = rules.create(request);
        return Response.created(uri.getAbsolutePathBuilder().path(created.id()).build()).entity(created).build();
    }

    @Operation(summary = "Get an alert rule",
            description = "One alert rule with its defaults filled in.")
    @APIResponse(responseCode = "200", description = "The rule.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = RuleView.class)))
    @APIResponse(responseCode = "404", description = "No rule with this id (NOT_FOUND).")
    @GET
    @Path("/alert-rules/{id}")
    public RuleView rule(@Parameter(description = "Rule id.") @PathParam("id") String id) {
        return rules.get(id);
    }

    @Operation(summary = "Replace an alert rule",
            description = "Replaces a rule (a built-in one too, e.g. to change its threshold or disable "
                    + "it); the next evaluation uses it.")
    @APIResponse(responseCode = "200", description = "The rule as stored.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = RuleView.class)))
    @APIResponse(responseCode = "400", description = "Invalid JSON or rule, or the body's id differs from the path (VALIDATION_FAILED, "
            + "UNKNOWN_METRIC, MALFORMED_JSON).")
    @APIResponse(responseCode = "404", description = "No rule with this id (NOT_FOUND).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @PUT
    @Path("/alert-rules/{id}")
    public RuleView replace(@Parameter(description = "Rule id; the body's id, if given, must match.") @PathParam("id") String id, @RequestBody(description = "The complete new rule.") @NotNull RuleRequest request) {
        return rules.replace(id, request);
    }

    @Operation(summary = "Delete an alert rule",
            description = "Deletes a custom rule; its open alerts resolve at the next evaluation. "
                    + "Built-in rules cannot be deleted: disable them with PUT.")
    @APIResponse(responseCode = "204", description = "Deleted.")
    @APIResponse(responseCode = "404", description = "No rule with this id (NOT_FOUND).")
    @APIResponse(responseCode = "409", description = "A built-in rule (CONFLICT).")
    @DELETE
    @Path("/alert-rules/{id}")
    public Response delete(@Parameter(description = "Rule id.") @PathParam("id") String id) {
        rules.delete(id);
        return Response.noContent().build();
    }

    /** Open and past alerts, newest first; {@code state} filters (PENDING, FIRING, RESOLVED). */
    @Operation(summary = "List alerts",
            description = "Open and past alerts, newest first, optionally of one state or one rule.")
    @APIResponse(responseCode = "200", description = "The alerts, newest first.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = AlertView.class)))
    @APIResponse(responseCode = "400", description = "An unknown state or a limit out of range (VALIDATION_FAILED).")
    @GET
    @Path("/alerts")
    public List<AlertView> alerts(@Parameter(description = "Only alerts in this state: PENDING, FIRING or RESOLVED.") @QueryParam("state") String state, @Parameter(description = "Only alerts of this rule id.") @QueryParam("rule") String rule,
            @Parameter(description = "Most alerts returned (default 200).") @QueryParam("limit") @DefaultValue("200") int limit) {
        return alerts.list(state, rule, limit);
    }

    /** Re-compression requests recorded by RECOMPRESS actions; {@code status=OPEN} for the ones not yet planned. */
    @Operation(summary = "List re-compression requests",
            description = "Requests recorded by RECOMPRESS alert actions; status=OPEN lists the ones no "
                    + "plan has taken up yet.")
    @APIResponse(responseCode = "200", description = "The requests, oldest first.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = RecompressionView.class)))
    @APIResponse(responseCode = "400", description = "An unknown status (VALIDATION_FAILED).")
    @GET
    @Path("/recompression-requests")
    public List<RecompressionView> recompressionRequests(@Parameter(description = "Only requests with this status, e.g. OPEN.") @QueryParam("status") String status) {
        return alerts.recompressionRequests(status);
    }
}
