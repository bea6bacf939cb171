package io.edgefleet.server.compression;

import io.edgefleet.server.compression.CompressionDtos.JobRequest;
import io.edgefleet.server.compression.CompressionDtos.JobView;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;

/**
 * Starts a compression job on a model version. Its own root path: JAX-RS matches the longest root resource path
 * first, so under {@code /api/v1} it would be shadowed by the model registry's {@code /api/v1/models}.
 */
@Path("/api/v1/models/{name}/versions/{version}/compressions")
@Produces(MediaType.APPLICATION_JSON)
public class CompressionSubmitResource {

    @Inject
    CompressionService service;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response submit(@PathParam("name") String name, @PathParam("version") long version,
                           @Valid @NotNull JobRequest request) {
        JobView job = service.submit(name, version, request);
        return Response.accepted(job)
                .location(UriBuilder.fromPath("/api/v1/compression-jobs/{id}").build(job.id()))
                .build();
    }
}
