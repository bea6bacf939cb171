package io.edgefleet.server.mqtt;

import io.edgefleet.server.config.EdgefleetConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * DOWN while ingest is stalled: a worker has messages queued and finished no batch within
 * {@code edgefleet.mqtt.ingest-stall-timeout}, or a worker thread died (it is replaced on the spot).
 */
@Liveness
@ApplicationScoped
public class IngestHealth implements HealthCheck {
    @Inject
    InboundDispatcher dispatcher;

    @Inject
    EdgefleetConfig config;

    @Override
    public HealthCheckResponse call() {
        String why = dispatcher.stalled(config.mqtt().ingestStallTimeout());
        return HealthCheckResponse.named("mqtt-ingest")
                .status(why == null)
                .withData("queued", dispatcher.queued())
                .withData("reason", why == null ? "draining" : why)
                .build();
    }
}
