package io.edgefleet.server.loop;

import io.edgefleet.server.loop.LoopDtos.ClassLoopRequest;
import io.edgefleet.server.loop.LoopDtos.ClassLoopView;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/** A class's closed-loop switch (own root path, as the class-variant registry's). */
@Path("/api/v1/device-classes/{id}/loop")
@Produces(MediaType.APPLICATION_JSON)
public class ClassLoopResource {

    @Inject
    LoopService loops;

    @GET
    @Operation(summary = "A class's loop settings", description = "The mode (automatic, approve, off), the operator's "
            + "fresh dataset and whether the class backed off after repeated rollbacks")
    @APIResponse(responseCode = "200", description = "The class's loop settings.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = ClassLoopView.class)))
    @APIResponse(responseCode = "404", description = "Unknown device class")
    public ClassLoopView get(@Parameter(description = "Device class id") @PathParam("id") String id) {
        return loops.mode(id);
    }

    @PUT
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Set a class's loop mode", description = "automatic: an alert starts a loop (within the "
            + "cooldown); approve: loops wait for approval; off: alerts start nothing. Setting the mode also "
            + "re-enables a class that backed off")
    @APIResponse(responseCode = "200", description = "The class's loop settings as stored.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = ClassLoopView.class)))
    @APIResponse(responseCode = "400", description = "Unknown device class, unknown mode or unknown fresh dataset")
    public ClassLoopView put(@Parameter(description = "Device class id") @PathParam("id") String id,
            @RequestBody(description = "The mode and, optionally, the operator's fresh dataset for recalibration.") @NotNull @Valid ClassLoopRequest request) {
        return loops.setMode(id, request);
    }
}
