package io.edgefleet.server.compression;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.core.Context;
import io.edgefleet.server.api.Pages;

import io.edgefleet.engine.report.ReportWriter;
import io.edgefleet.server.compression.CompressionDtos.JobView;
import io.edgefleet.server.compression.CompressionDtos.RecipeView;
import jakarta.inject.Inject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
/** Compression jobs and the recipes they can run; jobs are submitted on a model version ({@link CompressionSubmitResource}). */
public class CompressionResource {

    @Inject
    CompressionService service;

    @GET
    @Path("/recipes")
    public List<RecipeView> recipes() {
        return service.recipes();
    }

    @GET
    @Path("/compression-jobs")
    public Response list(@QueryParam("model") String model, @QueryParam("limit") String limit, @QueryParam("cursor") String cursor, @Context UriInfo uri) {
        return Pages.response(Pages.slice(listAll(model), cursor, Pages.limit(limit, Pages.DEFAULT_LIMIT),
                j -> String.format("%019d", Long.MAX_VALUE - j.createdAt()) + j.id()), uri);
    }

    private List<JobView> listAll(String model) {
        return service.list(model);
    }

    @GET
    @Path("/compression-jobs/{id}")
    public JobView get(@PathParam("id") String id) {
        return service.get(id);
    }

    @GET
    @Path("/compression-jobs/{id}/report.md")
    @Produces("text/markdown; charset=utf-8")
    public String reportMarkdown(@PathParam("id") String id) {
        return service.reportMarkdown(id);
    }

    @GET
    @Path("/compression-jobs/{id}/report.html")
    @Produces("text/html; charset=utf-8")
    public String reportHtml(@PathParam("id") String id) {
        return ReportWriter.htmlPage(service.reportMarkdown(id), "compression job " + id);
    }

    @DELETE
    @Path("/compression-jobs/{id}")
    public Response cancel(@PathParam("id") String id) {
        JobView job = service.cancel(id);
        return Response.status(job.status().terminal() ? 200 : 202).entity(job).build();
    }

}
