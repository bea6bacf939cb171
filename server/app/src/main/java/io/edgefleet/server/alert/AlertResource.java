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

/** {@code /api/v1/alert-rules}, {@code /api/v1/alerts}, {@code /api/v1/recompression-requests}. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class AlertResource {

    @Inject
    AlertRuleService rules;

    @Inject
    AlertService alerts;

    @GET
    @Path("/alert-rules")
    public List<RuleView> rules() {
        return rules.list();
    }

    @POST
    @Path("/alert-rules")
    public Response create(@NotNull RuleRequest request, @Context UriInfo uri) {
        RuleView created = rules.create(request);
        return Response.created(uri.getAbsolutePathBuilder().path(created.id()).build()).entity(created).build();
    }

    @GET
    @Path("/alert-rules/{id}")
    public RuleView rule(@PathParam("id") String id) {
        return rules.get(id);
    }

    @PUT
    @Path("/alert-rules/{id}")
    public RuleView replace(@PathParam("id") String id, @NotNull RuleRequest request) {
        return rules.replace(id, request);
    }

    @DELETE
    @Path("/alert-rules/{id}")
    public Response delete(@PathParam("id") String id) {
        rules.delete(id);
        return Response.noContent().build();
    }

    /** Open and past alerts, newest first; {@code state} filters (PENDING, FIRING, RESOLVED). */
    @GET
    @Path("/alerts")
    public List<AlertView> alerts(@QueryParam("state") String state, @QueryParam("rule") String rule,
            @QueryParam("limit") @DefaultValue("200") int limit) {
        return alerts.list(state, rule, limit);
    }

    /** Re-compression requests recorded by RECOMPRESS actions; {@code status=OPEN} for the ones not yet planned. */
    @GET
    @Path("/recompression-requests")
    public List<RecompressionView> recompressionRequests(@QueryParam("status") String status) {
        return alerts.recompressionRequests(status);
    }
}
