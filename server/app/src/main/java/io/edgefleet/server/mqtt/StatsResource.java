package io.edgefleet.server.mqtt;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Ingest counters since start: received, malformed and duplicates dropped, windows stored (ingest benchmark). */
@Path("/api/v1/stats")
@Tag(name = "Broker", description = "The MQTT broker: what the server uses, and Mosquitto files rendered from the device "
        + "registry (deploy/README.md).")
public class StatsResource {
    @Inject
    IngestStats stats;

    @Inject
    InboundDispatcher dispatcher;

    @Operation(summary = "Get ingest counters",
            description = "Counters since start: messages received, malformed and duplicate ones "
                    + "dropped, windows stored, the inbound queue length (used by the ingest "
                    + "benchmark; /q/metrics has the same for Prometheus).")
    @APIResponse(responseCode = "200", description = "Counter name to value.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.OBJECT)))
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> stats() {
        return stats.snapshot(dispatcher.queued());
    }
}
