package io.edgefleet.server.security;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Public manifest-verification keys, for agents to pin. */
@Path("/api/v1/server-keys")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Security", description = "The public keys agents pin to verify signed manifests and commands.")
public class ServerKeysResource {

    @Schema(description = "The server's public verification keys.")
    public record ServerKeys(
            @Schema(description = "Current key first.")
            List<SigningKeys.PublishedKey> keys) {
    }

    @Inject
    SigningKeys signingKeys;

    @Operation(summary = "Get the server's public keys",
            description = "The public keys that verify artifact manifests and commands the server "
                    + "signs, for agents to pin.")
    @APIResponse(responseCode = "200", description = "The keys.",
            content = @Content(mediaType = "application/json", schema = @Schema(implementation = ServerKeys.class)))
    @GET
    public ServerKeys keys() {
        return new ServerKeys(signingKeys.published());
    }
}
