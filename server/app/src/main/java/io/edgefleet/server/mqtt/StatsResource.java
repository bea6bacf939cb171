package io.edgefleet.server.mqtt;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Map;

/** Ingest counters since start: received, malformed and duplicates dropped, windows stored (ingest benchmark). */
@Path("/api/v1/stats")
public class StatsResource {
    @Inject
    IngestStats stats;

    @Inject
    InboundDispatcher dispatcher;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> stats() {
        return stats.snapshot(dispatcher.queued());
    }
}
