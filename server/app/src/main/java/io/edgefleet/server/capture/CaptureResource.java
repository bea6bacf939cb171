package io.edgefleet.server.capture;

import io.edgefleet.server.capture.CaptureDtos.CaptureRequest;
import io.edgefleet.server.capture.CaptureDtos.CaptureView;
import jakarta.inject.Inject;
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
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

@Path("/api/v1/devices/{id}/capture")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
public class CaptureResource {

    @Inject
    CaptureService service;

    @PUT
    @Operation(summary = "Opt a device in to (or out of) raw-input capture",
            description = "Raw inputs never leave a device without this. Sends a signed CONFIG command with the "
                    + "sampling rate and the sample and byte bounds; uploads are stored as datasets named "
                    + "capture/{classId}/{modelName}/{yyyyMMddHHmmss}.")
    @APIResponse(responseCode = "200", description = "The device's capture setting as sent.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = CaptureView.class)))
    @APIResponse(responseCode = "400", description = "VALIDATION_FAILED: bad rate or bounds")
    @APIResponse(responseCode = "404", description = "NOT_FOUND: unknown device")
    @APIResponse(responseCode = "503", description = "BROKER_UNAVAILABLE: nothing was changed")
    public CaptureView put(@Parameter(description = "Device id.") @PathParam("id") String id,
            @RequestBody(description = "Rate (share of inferences sampled; 0 turns capture off) and the sample and byte bounds.") CaptureRequest request) {
        return service.set(id, request);
    }

    @GET
    @Operation(summary = "A device's capture opt-in", description = "Whether capture is on, its bounds, what arrived "
            + "under it and the captured datasets of the device's class.")
    @APIResponse(responseCode = "200", description = "The device's capture setting.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = CaptureView.class)))
    @APIResponse(responseCode = "404", description = "NOT_FOUND: unknown device")
    public CaptureView get(@Parameter(description = "Device id.") @PathParam("id") String id) {
        return service.get(id);
    }
}
