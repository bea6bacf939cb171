package io.edgefleet.server.security;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Password hashes in Mosquitto's {@code $7$} format: PBKDF2-HMAC-SHA512,
 * {@code $7$<iterations>$<base64 salt>$<base64 64-byte hash>}, exactly what {@code mosquitto_passwd}
 * writes (101 iterations, 12-byte salt). Storing this one format lets the same hash serve the
 * embedded broker (verified here) and an external Mosquitto (rendered into its password file).
 */
public final class MosquittoPasswordHash {
    public static final int DEFAULT_ITERATIONS = 101;
    private static final int SALT_BYTES = 12;
    private static final int HASH_BYTES = 64;
    /** Refuse absurd iteration counts from a tampered row instead of burning CPU on every connect. */
    private static final int MAX_ITERATIONS = 1_000_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private MosquittoPasswordHash() {
    }

    public static String hash(String password) {
        if (password == null || password.isEmpty()) {
            throw new IllegalArgumentException("an empty password cannot be hashed");
        }
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        return encode(password, salt, DEFAULT_ITERATIONS);
    }

    static String encode(String password, byte[] salt, int iterations) {
        Base64.Encoder b64 = Base64.getEncoder();
        return "$7$" + iterations + "$" + b64.encodeToString(salt) + "$"
                + b64.encodeToString(pbkdf2(password.getBytes(StandardCharsets.UTF_8), salt, iterations, HASH_BYTES));
    }

    /** True when {@code password} matches {@code encoded}; false for a wrong password or any malformed hash. */
    public static boolean verify(String password, String encoded) {
        if (password == null || password.isEmpty() || encoded == null || !encoded.startsWith("$7$")) {
            return false;
        }
        String[] parts = encoded.split("\\$", -1);
        // "", "7", iterations, salt, hash
        if (parts.length != 5) {
            return false;
        }
        try {
            int iterations = Integer.parseInt(parts[2]);
            if (iterations < 1 || iterations > MAX_ITERATIONS) {
                return false;
            }
            byte[] salt = Base64.getDecoder().decode(parts[3]);
            byte[] expected = Base64.getDecoder().decode(parts[4]);
            if (salt.length == 0 || expected.length == 0) {
                return false;
            }
            byte[] actual = pbkdf2(password.getBytes(StandardCharsets.UTF_8), salt, iterations, expected.length);
            return MessageDigest.isEqual(expected, actual);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * PBKDF2 (RFC 8018) over HMAC-SHA512 on the raw UTF-8 password bytes. Written out instead of
     * using {@code SecretKeyFactory} because that one takes a char[] and its byte conversion is
     * provider-defined; here the bytes are exactly those mosquitto_passwd hashes.
     */
    static byte[] pbkdf2(byte[] password, byte[] salt, int iterations, int length) {
        try {
            Mac mac = Mac.getInstance("HmacSHA512");
            mac.init(new SecretKeySpec(password, "HmacSHA512"));
            int hLen = mac.getMacLength();
            int blocks = (length + hLen - 1) / hLen;
            byte[] out = new byte[length];
            for (int i = 1; i <= blocks; i++) {
                mac.update(salt);
                mac.update(new byte[] {(byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i});
                byte[] u = mac.doFinal();
                byte[] t = u.clone();
                for (int c = 1; c < iterations; c++) {
                    u = mac.doFinal(u);
                    for (int k = 0; k < t.length; k++) {
                        t[k] ^= u[k];
                    }
                }
                System.arraycopy(t, 0, out, (i - 1) * hLen, Math.min(hLen, length - (i - 1) * hLen));
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA512 is part of every JDK", e);
        }
    }
}
