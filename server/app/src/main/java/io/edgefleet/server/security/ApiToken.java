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
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jboss.logging.Logger;

/**
 * The bearer tokens the server accepts and the role each one carries. The admin token is configured via
 * {@code edgefleet.api.token}; when empty, the token in {@code ${data-dir}/api-token} is used, and generated
 * (0600) on the very first start, so a restart does not lock out scripts that already read it. Further tokens
 * with a role ({@link Role}) are configured by their SHA-256 only: {@code edgefleet.auth.tokens.<name>.role}
 * and {@code .token-sha256}.
 */
@Startup
@ApplicationScoped
public class ApiToken {
    private static final Logger LOG = Logger.getLogger(ApiToken.class);

    /** Who presented a token: the configured name ({@code admin} for the operator token) and the role. */
    public record Principal(String name, Role role) {
    }

    private static final Principal ADMIN = new Principal("admin", Role.ADMIN);

    private final byte[] token;
    private final List<RoleToken> roleTokens;

    private record RoleToken(Principal principal, byte[] sha256) {
    }

    @Inject
    public ApiToken(EdgefleetConfig config, DataDir dataDir) {
        this.roleTokens = roleTokens(config.auth().tokens());
        this.token = adminToken(config, dataDir);
    }

    private static List<RoleToken> roleTokens(Map<String, EdgefleetConfig.Auth.RoleToken> configured) {
        List<RoleToken> list = new ArrayList<>();
        new TreeMap<>(configured).forEach((name, t) -> {
            Role role;
            try {
                role = Role.parse(t.role());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("edgefleet.auth.tokens." + name + ".role: " + e.getMessage(), e);
            }
            list.add(new RoleToken(new Principal(name, role), hex(name, t.tokenSha256())));
        });
        if (!list.isEmpty()) {
            LOG.infof("Role tokens configured: %s", list.stream()
                    .map(r -> r.principal().name() + "=" + r.principal().role().label()).toList());
        }
        return List.copyOf(list);
    }

    private static byte[] hex(String name, String sha256Hex) {
        String h = sha256Hex == null ? "" : sha256Hex.trim().toLowerCase(java.util.Locale.ROOT);
        if (!h.matches("[0-9a-f]{64}")) {
            throw new IllegalStateException("edgefleet.auth.tokens." + name
                    + ".token-sha256 must be 64 hex digits (e.g. the output of: printf %s \"$TOKEN\" | sha256sum)");
        }
        return HexFormat.of().parseHex(h);
    }

    private static byte[] adminToken(EdgefleetConfig config, DataDir dataDir) {
        String configured = config.api().token().map(String::trim).orElse("");
        if (!configured.isEmpty()) {
            return configured.getBytes(StandardCharsets.UTF_8);
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
        return t.getBytes(StandardCharsets.UTF_8);
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

    /**
     * The principal a presented token belongs to, or empty. Every configured token is compared (constant time,
     * role tokens by their SHA-256), so timing tells neither which token nor how much of it matched.
     */
    public Optional<Principal> authenticate(String presented) {
        if (presented == null || presented.isEmpty()) {
            return Optional.empty();
        }
        byte[] raw = presented.getBytes(StandardCharsets.UTF_8);
        byte[] digest = sha256(raw);
        Principal found = MessageDigest.isEqual(token, raw) ? ADMIN : null;
        for (RoleToken r : roleTokens) {
            if (MessageDigest.isEqual(r.sha256(), digest) && found == null) {
                found = r.principal();
            }
        }
        return Optional.ofNullable(found);
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
