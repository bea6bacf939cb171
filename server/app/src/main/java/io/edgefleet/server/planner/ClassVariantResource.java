package io.edgefleet.server.planner;

import io.edgefleet.server.planner.PlanDtos.VariantView;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The class-variant registry: per model, the variant chosen for this class, with lineage and baselines. */
@Path("/api/v1/device-classes/{id}/variants")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Planner", description = "Plans: search compression variants per device class and register the best one that meets "
        + "the class SLOs (docs/planner.md).")
public class ClassVariantResource {

    @Inject
    PlannerService service;

    @Operation(summary = "List a class's chosen variants",
            description = "Per model, the variant the planner chose for this class, with its lineage "
                    + "and the baselines it was compared with.")
    @APIResponse(responseCode = "200", description = "The variants, by model.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = VariantView.class)))
    @APIResponse(responseCode = "404", description = "No device class with this id (NOT_FOUND).")
    @GET
    public List<VariantView> variants(@Parameter(description = "Device class id.") @PathParam("id") String id) {
        return service.variants(id);
    }
}
