package io.edgefleet.server.drift;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** A model version's drift reference profile: build it from a stored dataset, read it back. */
@Path("/api/v1/models/{name}/versions/{version}/reference-profile")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Drift", description = "Drift reference profiles of model versions (docs/drift-and-energy.md).")
public class ReferenceProfileResource {

    @Inject
    ReferenceProfileService service;

    @Operation(summary = "Build a reference profile",
            description = "Bins a stored dataset through the model version into the drift reference "
                    + "profile that devices compare their inferences with; replaces an earlier "
                    + "profile. Deployments made afterwards carry it in their signed manifest.")
    @APIResponse(responseCode = "200", description = "The profile as stored.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = ReferenceProfileView.class)))
    @APIResponse(responseCode = "400", description = "No body, source not validation/calibration, a dataset missing (UNKNOWN_DATASET) or "
            + "not fitting the model (INVALID_DATASET), a model that cannot be run (INVALID_MODEL), "
            + "a profile over its size bound (VALIDATION_FAILED).")
    @APIResponse(responseCode = "404", description = "No such model version (NOT_FOUND).")
    @APIResponse(responseCode = "411", description = "A JSON body sent without Content-Length (LENGTH_REQUIRED).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public ReferenceProfileView build(@Parameter(description = "Model name.") @PathParam("name") String name, @Parameter(description = "Model version.") @PathParam("version") long version,
                                      @RequestBody(description = "The dataset and what kind of data it is.") ReferenceProfileView.BuildRequest request) {
        if (request == null) {
            throw io.edgefleet.server.api.ApiException.invalid("a JSON body {\"dataset\":\"...\"} is required");
        }
        return service.build(name, version, request.dataset(), request.source());
    }

    @Operation(summary = "Get a reference profile",
            description = "The reference profile of a model version and where it came from.")
    @APIResponse(responseCode = "200", description = "The profile.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = ReferenceProfileView.class)))
    @APIResponse(responseCode = "404", description = "No such model version, or it has no profile yet (NOT_FOUND).")
    @GET
    public ReferenceProfileView get(@Parameter(description = "Model name.") @PathParam("name") String name, @Parameter(description = "Model version.") @PathParam("version") long version) {
        return service.get(name, version);
    }
}
