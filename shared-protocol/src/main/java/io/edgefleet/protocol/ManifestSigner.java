package io.edgefleet.protocol;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Ed25519 signing of artifact manifests and of commands with the JDK's own provider. The server holds
 * a private key; agents pin one or two public keys (two so a key can be rotated without a flag day).
 */
public final class ManifestSigner {
    private static final String ALG = "Ed25519";

    private final PrivateKey privateKey;
    private final String keyId;

    public ManifestSigner(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.keyId = keyId(publicKey);
    }

    public static KeyPair generateKeyPair() {
        try {
            return KeyPairGenerator.getInstance(ALG).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every JDK since 15", e);
        }
    }

    /** Key id: the first 16 hex digits of SHA-256 over the X.509 encoding of the public key. */
    public static String keyId(PublicKey key) {
        return Hashing.sha256Hex(key.getEncoded()).substring(0, 16);
    }

    public static String encodePublic(PublicKey key) {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }

    public static String encodePrivate(PrivateKey key) {
        return Base64.getEncoder().encodeToString(key.getEncoded());
    }

    public static PublicKey decodePublic(String base64) {
        try {
            return KeyFactory.getInstance(ALG).generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64.trim())));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("not a base64 X.509 Ed25519 public key", e);
        }
    }

    public static PrivateKey decodePrivate(String base64) {
        try {
            return KeyFactory.getInstance(ALG).generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64.trim())));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("not a base64 PKCS#8 Ed25519 private key", e);
        }
    }

    public String keyId() {
        return keyId;
    }

    public ArtifactManifest sign(ArtifactManifest unsigned) {
        ArtifactManifest withKey = unsigned.withSignature(keyId, null);
        return withKey.withSignature(keyId, Base64.getEncoder().encodeToString(signBytes(withKey.signedBytes())));
    }

    /**
     * Signs a command for one device: the target device id and the expiry become part of the signed
     * bytes, so the command cannot be redirected to another device or used after {@code expiresAt}.
     */
    public Command sign(Command unsigned, String deviceId, long expiresAtMillis) {
        Command withKey = unsigned.addressedTo(deviceId, expiresAtMillis).withSignature(keyId, null);
        return withKey.withSignature(keyId, Base64.getEncoder().encodeToString(signBytes(withKey.signedBytes())));
    }

    private byte[] signBytes(byte[] bytes) {
        try {
            Signature s = Signature.getInstance(ALG);
            s.initSign(privateKey);
            s.update(bytes);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing failed", e);
        }
    }

    /** Verifies manifests and commands against pinned public keys. */
    public static final class Verifier {
        private final Map<String, PublicKey> pinned;

        public Verifier(List<PublicKey> keys) {
            if (keys.isEmpty()) {
                throw new IllegalArgumentException("at least one pinned server key is required");
            }
            List<Map.Entry<String, PublicKey>> entries = new ArrayList<>();
            for (PublicKey k : keys) {
                entries.add(Map.entry(keyId(k), k));
            }
            this.pinned = Map.ofEntries(entries.toArray(Map.Entry[]::new));
        }

        public List<String> keyIds() {
            return List.copyOf(pinned.keySet());
        }

        /** Throws SIGNATURE_INVALID unless a pinned key signed exactly these manifest fields. */
        public void verify(ArtifactManifest m) {
            verifyBytes("manifest", m.keyId(), m.signature(), m.signedBytes());
        }

        /**
         * Checks a command before anything acts on it, in this order: signed at all (COMMAND_UNSIGNED),
         * signed by a pinned key over exactly these fields (SIGNATURE_INVALID), addressed to this device
         * (COMMAND_FOREIGN), not past its expiry (COMMAND_EXPIRED). Replays are the caller's check: only
         * it remembers which command ids it has seen.
         */
        public void verify(Command c, String deviceId, long nowMillis) {
            if (c.signature() == null || c.keyId() == null || c.expiresAt() == null || c.deviceId() == null) {
                throw new ProtocolException(ReasonCode.COMMAND_UNSIGNED,
                        "command " + c.id() + " carries no signature, key id, target device or expiry; unsigned commands"
                        + " are refused (is the server older than this agent?)");
            }
            verifyBytes("command", c.keyId(), c.signature(), c.signedBytes());
            if (!c.deviceId().equals(deviceId)) {
                throw new ProtocolException(ReasonCode.COMMAND_FOREIGN,
                        "command " + c.id() + " is addressed to device '" + c.deviceId() + "', not to '" + deviceId + "'");
            }
            if (nowMillis > c.expiresAt()) {
                throw new ProtocolException(ReasonCode.COMMAND_EXPIRED, "command " + c.id() + " expired at "
                        + java.time.Instant.ofEpochMilli(c.expiresAt()) + " (device clock "
                        + java.time.Instant.ofEpochMilli(nowMillis) + ")");
            }
        }

        private void verifyBytes(String what, String keyId, String signature, byte[] signed) {
            PublicKey key = keyId == null ? null : pinned.get(keyId);
            if (key == null) {
                throw new ProtocolException(ReasonCode.SIGNATURE_INVALID,
                        what + " signed by key '" + keyId + "', which is not pinned (pinned: " + pinned.keySet() + ")");
            }
            try {
                Signature s = Signature.getInstance(ALG);
                s.initVerify(key);
                s.update(signed);
                byte[] sig = Base64.getDecoder().decode(signature);
                if (!s.verify(sig)) {
                    throw new ProtocolException(ReasonCode.SIGNATURE_INVALID, what + " signature does not verify");
                }
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new ProtocolException(ReasonCode.SIGNATURE_INVALID, what + " signature is malformed: " + e.getMessage(), e);
            }
        }
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
