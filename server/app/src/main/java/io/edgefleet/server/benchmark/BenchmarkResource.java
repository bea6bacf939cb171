package io.edgefleet.server.benchmark;

import io.edgefleet.server.benchmark.BenchmarkDtos.BenchmarkRequest;
import io.edgefleet.server.benchmark.BenchmarkDtos.BenchmarkView;
import io.edgefleet.server.benchmark.BenchmarkDtos.CostModelView;
import jakarta.inject.Inject;
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
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

@Path("/api/v1/device-classes/{id}")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class BenchmarkResource {

    @Inject
    BenchmarkService service;

    @POST
    @Path("/benchmarks")
    @Operation(summary = "Benchmark a model version on devices of the class",
            description = "Publishes the artifact for the class and sends a signed BENCHMARK command to up to N online "
                    + "devices, which run it without activating it and report latency and energy; the class's cost "
                    + "model is refitted when the job ends.")
    @APIResponse(responseCode = "202", description = "Job started; Location names it, poll it for progress.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = BenchmarkView.class)))
    @APIResponse(responseCode = "400", description = "VALIDATION_FAILED, UNKNOWN_MODEL or NO_TARGETS (no device online)")
    @APIResponse(responseCode = "404", description = "NOT_FOUND: unknown device class")
    @APIResponse(responseCode = "503", description = "BROKER_UNAVAILABLE: nothing was sent")
    public Response submit(@Parameter(description = "Device class id.") @PathParam("id") String id,
            @RequestBody(description = "What to run, on how many devices, for how long.") BenchmarkRequest request, @Context UriInfo uri) {
        BenchmarkView v = service.submit(id, request);
        return Response.accepted(v).location(uri.getAbsolutePathBuilder().path(v.id()).build()).build();
    }

    @GET
    @Path("/benchmarks")
    @Operation(summary = "The class's benchmark jobs", description = "Newest first, each with its status, the server's "
            + "own measurement and every device report.")
    @APIResponse(responseCode = "200", description = "The jobs.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = BenchmarkView.class)))
    @APIResponse(responseCode = "400", description = "VALIDATION_FAILED: limit outside 1..500")
    @APIResponse(responseCode = "404", description = "NOT_FOUND: unknown device class")
    public java.util.List<BenchmarkView> list(@Parameter(description = "Device class id.") @PathParam("id") String id,
            @Parameter(description = "At most this many jobs (1..500).") @jakarta.ws.rs.QueryParam("limit")
            @jakarta.ws.rs.DefaultValue("50") int limit) {
        return service.list(id, limit);
    }

    @GET
    @Path("/benchmarks/{jobId}")
    @Operation(summary = "A benchmark job", description = "Status, progress, the server's own measurement and every "
            + "device report received.")
    @APIResponse(responseCode = "200", description = "The job.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = BenchmarkView.class)))
    @APIResponse(responseCode = "404", description = "NOT_FOUND: unknown job or class")
    public BenchmarkView get(@Parameter(description = "Device class id.") @PathParam("id") String id,
            @Parameter(description = "Benchmark job id.") @PathParam("jobId") String jobId) {
        return service.get(id, jobId);
    }

    @GET
    @Path("/cost-model")
    @Operation(summary = "The class's latency and energy cost model",
            description = "The model fitted from device benchmark reports with its error, or the declared profile "
                    + "when no device has reported; the planner uses the same.")
    @APIResponse(responseCode = "200", description = "The class's cost model.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = CostModelView.class)))
    @APIResponse(responseCode = "404", description = "NOT_FOUND: unknown device class")
    public CostModelView costModel(@Parameter(description = "Device class id.") @PathParam("id") String id) {
        return service.costModel(id);
    }
}
