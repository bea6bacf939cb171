package io.edgefleet.server.mqtt;

import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.device.DeviceEntity;
import io.edgefleet.server.security.MosquittoPasswordHash;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.hibernate.Session;

/** Broker information for operators, and Mosquitto configuration rendered from the device registry. */
@Path("/api/v1/broker")
public class BrokerResource {

    public record BrokerView(String url, boolean embedded, boolean connected, boolean sharedSubscriptions,
                             List<String> subscriptions) {
    }

    @Inject
    BrokerInfo broker;

    @Inject
    MqttGateway gateway;

    @Inject
    EdgefleetConfig config;

    @Inject
    Session session;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public BrokerView info() {
        return new BrokerView(broker.advertisedUrl(), broker.embedded(), gateway.isConnected(),
                config.mqtt().sharedSubscriptions(), gateway.subscriptionFilters());
    }

    @GET
    @Path("/mosquitto/passwd")
    @Produces(MediaType.TEXT_PLAIN)
    @Transactional
    public String passwd() {
        String[] server = broker.configuredServerCredential().orElse(null);
        return MosquittoConfigRenderer.passwd(activeDevices(), server == null ? null : server[0],
                server == null ? null : MosquittoPasswordHash.hash(server[1]));
    }

    @GET
    @Path("/mosquitto/acl")
    @Produces(MediaType.TEXT_PLAIN)
    @Transactional
    public String acl() {
        String serverUser = broker.configuredServerCredential().map(c -> c[0]).orElse(null);
        return MosquittoConfigRenderer.acl(activeDevices(), serverUser);
    }

    private List<MosquittoConfigRenderer.DeviceEntry> activeDevices() {
        return session.createSelectionQuery("from DeviceEntity where credentialHash is not null order by id",
                        DeviceEntity.class).getResultList().stream()
                .map(d -> new MosquittoConfigRenderer.DeviceEntry(d.id, d.classId, d.credentialHash))
                .toList();
    }
}
