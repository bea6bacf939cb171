package io.edgefleet.server.device;

import io.edgefleet.server.device.DeviceDtos.RegisterDevicesRequest;
import io.edgefleet.server.device.DeviceDtos.RegisteredDevices;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Bulk registration: a fleet enrolled by the hundred in one transaction (see {@link DeviceService#registerAll}).
 * A path of its own rather than under {@code /api/v1/devices}, where any segment is a device id.
 */
@Path("/api/v1/device-registrations")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "Devices")
public class DeviceRegistrationResource {

    @Inject
    DeviceService devices;

    @Operation(summary = "Register several devices at once",
            description = "Registers 1 to 500 devices in one transaction, all or none, each as POST /api/v1/devices "
                    + "would (its own broker login; the answer is the only time its password is shown). For enrolling "
                    + "large fleets: one request and one commit instead of one per device.")
    @APIResponse(responseCode = "201", description = "All registered; their credentials in request order.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = RegisteredDevices.class)))
    @APIResponse(responseCode = "400", description = "Unknown class (UNKNOWN_DEVICE_CLASS), an id not usable as an MQTT user "
            + "or reserved (INVALID_ID), no or more than 500 devices, an id twice, a field out of bounds "
            + "(VALIDATION_FAILED), malformed JSON. Nothing is registered.")
    @APIResponse(responseCode = "409", description = "A device with one of the ids exists (ALREADY_EXISTS, naming it). "
            + "Nothing is registered.")
    @APIResponse(responseCode = "411", description = "A JSON body sent without Content-Length (LENGTH_REQUIRED).")
    @APIResponse(responseCode = "413", description = "The body is larger than the JSON limit, edgefleet.api.max-json-bytes "
            + "(PAYLOAD_TOO_LARGE).")
    @APIResponse(responseCode = "415", description = "The body is not application/json (UNSUPPORTED_MEDIA_TYPE).")
    @POST
    public Response registerAll(@RequestBody(description = "The devices: id, class and tags of each.")
                                @NotNull @Valid RegisterDevicesRequest request) {
        return Response.status(Response.Status.CREATED)
                .entity(new RegisteredDevices(devices.registerAll(request.devices()))).build();
    }
}
