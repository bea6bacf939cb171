package io.edgefleet.server.drift;

import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** A model version's drift reference profile: build it from a stored dataset, read it back. */
@Path("/api/v1/models/{name}/versions/{version}/reference-profile")
@Produces(MediaType.APPLICATION_JSON)
public class ReferenceProfileResource {

    @Inject
    ReferenceProfileService service;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public ReferenceProfileView build(@PathParam("name") String name, @PathParam("version") long version,
                                      ReferenceProfileView.BuildRequest request) {
        if (request == null) {
            throw io.edgefleet.server.api.ApiException.invalid("a JSON body {\"dataset\":\"...\"} is required");
        }
        return service.build(name, version, request.dataset(), request.source());
    }

    @GET
    public ReferenceProfileView get(@PathParam("name") String name, @PathParam("version") long version) {
        return service.get(name, version);
    }
}
