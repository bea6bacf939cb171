package io.edgefleet.server.mqtt;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only while the gateway is connected: without the broker no device can be reached. */
@Readiness
@ApplicationScoped
public class MqttGatewayHealth implements HealthCheck {
    @Inject
    MqttGateway gateway;

    @Inject
    BrokerInfo broker;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("mqtt-gateway")
                .status(gateway.isConnected())
                .withData("embedded", broker.embedded())
                .build();
    }
}
