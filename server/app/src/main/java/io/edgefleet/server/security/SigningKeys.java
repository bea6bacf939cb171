package io.edgefleet.server.security;

import io.edgefleet.protocol.ManifestSigner;
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
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The server's Ed25519 manifest-signing key, created on first start in {@code ${data-dir}/keys/}
 * (private key 0600) and reused afterwards. An optional next public key is announced alongside
 * the current one so agents can pin it before the server switches (promise 1: two keys accepted).
 */
@Startup
@ApplicationScoped
public class SigningKeys {
    private static final Logger LOG = Logger.getLogger(SigningKeys.class);

    @Schema(description = "A public key agents pin to verify what the server signs.")
    public record PublishedKey(
            @Schema(description = "Key id (carried by every signature).")
            String keyId,
            @Schema(description = "Public key, base64 (X.509 SubjectPublicKeyInfo).")
            String publicKey) {
    }

    private final ManifestSigner signer;
    private final List<PublishedKey> keys;

    @Inject
    public SigningKeys(EdgefleetConfig config, DataDir dataDir) {
        this(dataDir.directory("keys"), config.signing().nextPublicKey().map(String::trim).filter(s -> !s.isEmpty()).orElse(null));
    }

    public SigningKeys(Path keyDir, String nextPublicKey) {
        Path priv = keyDir.resolve("server-signing.key");
        Path pub = keyDir.resolve("server-signing.pub");
        PrivateKey privateKey;
        PublicKey publicKey;
        try {
            if (Files.isRegularFile(priv) && Files.isRegularFile(pub)) {
                privateKey = ManifestSigner.decodePrivate(Files.readString(priv, StandardCharsets.UTF_8));
                publicKey = ManifestSigner.decodePublic(Files.readString(pub, StandardCharsets.UTF_8));
            } else if (Files.exists(priv) || Files.exists(pub)) {
                throw new IllegalStateException("incomplete signing key pair in " + keyDir
                        + ": restore both server-signing.key and server-signing.pub (or remove both to create a new key;"
                        + " agents pinned to the old key will then refuse new artifacts)");
            } else {
                KeyPair kp = ManifestSigner.generateKeyPair();
                privateKey = kp.getPrivate();
                publicKey = kp.getPublic();
                DataDir.writePrivate(priv, ManifestSigner.encodePrivate(privateKey) + "\n");
                Files.writeString(pub, ManifestSigner.encodePublic(publicKey) + "\n", StandardCharsets.UTF_8);
                LOG.infof("Created the server signing key %s in %s", ManifestSigner.keyId(publicKey), keyDir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the signing key in " + keyDir, e);
        }
        this.signer = new ManifestSigner(privateKey, publicKey);
        List<PublishedKey> list = new ArrayList<>();
        list.add(new PublishedKey(ManifestSigner.keyId(publicKey), ManifestSigner.encodePublic(publicKey)));
        if (nextPublicKey != null) {
            PublicKey next;
            try {
                next = ManifestSigner.decodePublic(nextPublicKey);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("edgefleet.signing.next-public-key is not a base64 X.509 Ed25519 public key", e);
            }
            String nextId = ManifestSigner.keyId(next);
            if (!nextId.equals(signer.keyId())) {
                list.add(new PublishedKey(nextId, ManifestSigner.encodePublic(next)));
            }
        }
        this.keys = List.copyOf(list);
    }

    public ManifestSigner signer() {
        return signer;
    }

    /** The current key first, then the announced next key if any. */
    public List<PublishedKey> published() {
        return keys;
    }

    public List<String> publicKeysBase64() {
        return keys.stream().map(PublishedKey::publicKey).toList();
    }
}
