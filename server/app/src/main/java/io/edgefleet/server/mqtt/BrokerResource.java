package io.edgefleet.server.mqtt;

import io.edgefleet.server.config.EdgefleetConfig;
import io.edgefleet.server.api.ApiException;
import io.edgefleet.server.api.ErrorCode;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.hibernate.Session;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Broker information for operators, and Mosquitto configuration rendered from the device registry. */
@Path("/api/v1/broker")
@Tag(name = "Broker", description = "The MQTT broker: what the server uses, and Mosquitto files rendered from the device "
        + "registry (deploy/README.md).")
public class BrokerResource {

    @Schema(description = "The MQTT broker the server uses.")
    public record BrokerView(
            @Schema(description = "Broker URL devices are told to use.")
            String url,
            @Schema(description = "True when the server runs its embedded broker.")
            boolean embedded,
            @Schema(description = "Whether the server's own client is connected.")
            boolean connected,
            @Schema(description = "Whether device topics are read through $share/edgefleet/ (several replicas).")
            boolean sharedSubscriptions,
            @Schema(description = "Topic filters the server subscribes to.")
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

    @Inject
    ServerLogins serverLogins;

    @Operation(summary = "Get broker information",
            description = "The broker URL devices are told, whether it is embedded, and the server's "
                    + "own connection and subscriptions.")
    @APIResponse(responseCode = "200", description = "The broker.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = BrokerView.class)))
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public BrokerView info() {
        return new BrokerView(broker.advertisedUrl(), broker.embedded(), gateway.isConnected(),
                config.mqtt().sharedSubscriptions(), gateway.subscriptionFilters());
    }

    @Operation(summary = "Render Mosquitto's password file",
            description = "user:hash lines (Mosquitto PBKDF2-SHA512) for every device with active "
                    + "credentials, and every server replica's broker user; "
                    + "deploy/mosquitto/sync-credentials.sh installs it.")
    @APIResponse(responseCode = "200", description = "The password file.",
            content = @Content(mediaType = "text/plain", schema = @Schema(type = SchemaType.STRING)))
    @GET
    @Path("/mosquitto/passwd")
    @Produces(MediaType.TEXT_PLAIN)
    @Transactional
    public String passwd() {
        return MosquittoConfigRenderer.passwd(activeDevices(), serverLogins.all());
    }

    @Operation(summary = "Render Mosquitto's ACL file",
            description = "Per device: write its own status/events/telemetry, read its own commands and "
                    + "its class's artifacts; every server replica's user gets edgefleet/#.")
    @APIResponse(responseCode = "200", description = "The ACL file.",
            content = @Content(mediaType = "text/plain", schema = @Schema(type = SchemaType.STRING)))
    @GET
    @Path("/mosquitto/acl")
    @Produces(MediaType.TEXT_PLAIN)
    @Transactional
    public String acl() {
        return MosquittoConfigRenderer.acl(activeDevices(),
                serverLogins.all().stream().map(ServerLogins.Login::username).toList());
    }

    @Operation(summary = "List the server replicas' broker users",
            description = "Every broker user a server replica on this database recorded at start (its own "
                    + "edgefleet.mqtt.username); each is rendered into the password file and ACL with the server's rights.")
    @APIResponse(responseCode = "200", description = "The user names.",
            content = @Content(mediaType = "application/json", schema = @Schema(type = SchemaType.ARRAY, implementation = String.class)))
    @GET
    @Path("/server-logins")
    @Produces(MediaType.APPLICATION_JSON)
    @Transactional
    public List<String> serverLogins() {
        return serverLogins.all().stream().map(ServerLogins.Login::username).toList();
    }

    @Operation(summary = "Forget a server replica's broker user",
            description = "For a replica scaled down for good: its user leaves the rendered password file and ACL at "
                    + "the next sync. A running replica records its user again when it restarts.")
    @APIResponse(responseCode = "204", description = "Removed.")
    @APIResponse(responseCode = "404", description = "No replica recorded that user.")
    @DELETE
    @Path("/server-logins/{username}")
    @Transactional
    public void removeServerLogin(@Parameter(description = "The replica's broker user, as `GET /api/v1/broker/server-logins`"
            + " lists it.") @PathParam("username") String username) {
        if (!serverLogins.remove(username)) {
            throw new ApiException(ErrorCode.NOT_FOUND, "no server replica recorded the broker user '" + username + "'");
        }
    }

    /**
     * The three columns the files need, in one query. Loading the entities fetched every device's tags and models
     * too (eager collections): with thousands of devices each sync request took seconds, and the scale benchmark's
     * credential sync, which lets newly registered agents in, fell behind the agents (docs/scale.md).
     */
    private List<MosquittoConfigRenderer.DeviceEntry> activeDevices() {
        return session.createSelectionQuery("select d.id, d.classId, d.credentialHash from DeviceEntity d"
                        + " where d.credentialHash is not null order by d.id", Object[].class).getResultList().stream()
                .map(r -> new MosquittoConfigRenderer.DeviceEntry((String) r[0], (String) r[1], (String) r[2]))
                .toList();
    }
}
