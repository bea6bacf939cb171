package io.edgefleet.server.security;

import java.security.SecureRandom;
import java.util.Base64;

/** Random secrets: device passwords, the generated API token, internal broker credentials. */
public final class Secrets {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Secrets() {
    }

    /** 192 random bits as URL-safe base64 (32 chars, no padding): safe in shells, files and URLs. */
    public static String randomToken() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
