package io.edgefleet.server.security;

import io.edgefleet.server.config.DataDir;
import io.edgefleet.server.config.EdgefleetConfig;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import org.jboss.logging.Logger;

/**
 * The operator's bearer token. Configured via {@code edgefleet.api.token}; when empty, the token
 * in {@code ${data-dir}/api-token} is used, and generated (0600) on the very first start, so a
 * restart does not lock out scripts that already read it.
 */
@Startup
@ApplicationScoped
public class ApiToken {
    private static final Logger LOG = Logger.getLogger(ApiToken.class);

    private final byte[] token;

    @Inject
    public ApiToken(EdgefleetConfig config, DataDir dataDir) {
        String configured = config.api().token().map(String::trim).orElse("");
        if (!configured.isEmpty()) {
            this.token = configured.getBytes(StandardCharsets.UTF_8);
            return;
        }
        Path file = dataDir.resolve("api-token");
        String t = readExisting(file);
        if (t == null) {
            t = Secrets.randomToken();
            DataDir.writePrivate(file, t + "\n");
            LOG.infof("No edgefleet.api.token configured: generated an operator API token in %s", file);
        } else {
            LOG.infof("No edgefleet.api.token configured: using the operator API token in %s", file);
        }
        this.token = t.getBytes(StandardCharsets.UTF_8);
    }

    private static String readExisting(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            String s = Files.readString(file, StandardCharsets.UTF_8).trim();
            return s.isEmpty() ? null : s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Constant-time comparison, so response timing does not leak how much of a guess was right. */
    public boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8));
    }
}
