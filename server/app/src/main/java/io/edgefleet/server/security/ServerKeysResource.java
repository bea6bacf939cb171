package io.edgefleet.server.security;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/** Public manifest-verification keys, for agents to pin. */
@Path("/api/v1/server-keys")
@Produces(MediaType.APPLICATION_JSON)
public class ServerKeysResource {

    public record ServerKeys(List<SigningKeys.PublishedKey> keys) {
    }

    @Inject
    SigningKeys signingKeys;

    @GET
    public ServerKeys keys() {
        return new ServerKeys(signingKeys.published());
    }
}
