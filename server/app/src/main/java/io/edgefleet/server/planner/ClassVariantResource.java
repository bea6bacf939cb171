package io.edgefleet.server.planner;

import io.edgefleet.server.planner.PlanDtos.VariantView;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/** The class-variant registry: per model, the variant chosen for this class, with lineage and baselines. */
@Path("/api/v1/device-classes/{id}/variants")
@Produces(MediaType.APPLICATION_JSON)
public class ClassVariantResource {

    @Inject
    PlannerService service;

    @GET
    public List<VariantView> variants(@PathParam("id") String id) {
        return service.variants(id);
    }
}
