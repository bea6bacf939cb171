package io.edgefleet.server.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MosquittoPasswordHashTest {

    // Written by mosquitto_passwd 2.0.11 (`mosquitto_passwd -b -c file user pass`) on the build machine.
    private static final String MOSQUITTO_PASS = "$7$101$VY549STskAPeDwiu$QNuGLY8/GkEYSuSlzOR1g5lxurSc8Lbv9nYtnS73P1B0MFAPeSgwnGodawdllLnm8AKfEqBDk47zGq2VZ3Ujsw==";
    private static final String MOSQUITTO_UNICODE = "$7$101$+TQSbPlAIjcP/6pu$wI7UyCxopHnBpRAk01KaJdU+xUb+oSdjOIH7OtKhXYYsKOeh2CCebdM7+8vp1CK+DuC3Gv6XFm/AC9FcvtObqg==";

    @Test
    void verifiesHashesWrittenByMosquittoPasswd() {
        assertTrue(MosquittoPasswordHash.verify("pass", MOSQUITTO_PASS));
        assertFalse(MosquittoPasswordHash.verify("Pass", MOSQUITTO_PASS));
        assertTrue(MosquittoPasswordHash.verify("s3cr3t-Pässwörd", MOSQUITTO_UNICODE));
        assertFalse(MosquittoPasswordHash.verify("s3cr3t-Passwort", MOSQUITTO_UNICODE));
    }

    @Test
    void writesTheSameFormatAsMosquittoPasswd() {
        String h = MosquittoPasswordHash.hash("correct horse");
        String[] parts = h.split("\\$");
        assertEquals("", parts[0]);
        assertEquals("7", parts[1]);
        assertEquals("101", parts[2]);
        assertEquals(12, Base64.getDecoder().decode(parts[3]).length);
        assertEquals(64, Base64.getDecoder().decode(parts[4]).length);
        assertTrue(MosquittoPasswordHash.verify("correct horse", h));
        assertFalse(MosquittoPasswordHash.verify("correct horse ", h));
        assertNotEquals(h, MosquittoPasswordHash.hash("correct horse"), "every hash gets a fresh salt");
    }

    @Test
    void pbkdf2MatchesTheJdkImplementationForAsciiPasswords() throws Exception {
        byte[] salt = "0123456789ab".getBytes(StandardCharsets.US_ASCII);
        byte[] ours = MosquittoPasswordHash.pbkdf2("hunter2".getBytes(StandardCharsets.US_ASCII), salt, 101, 64);
        byte[] jdk = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA512")
                .generateSecret(new PBEKeySpec("hunter2".toCharArray(), salt, 101, 512)).getEncoded();
        assertArrayEquals(jdk, ours);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "$6$abc$def", "$7$101$onlythree", "$7$x$VY549STskAPeDwiu$QNuGLY8=", "$7$0$VY549STskAPeDwiu$QNuGLY8=",
        "$7$99999999$VY549STskAPeDwiu$QNuGLY8=", "$7$101$!!notbase64!!$QNuGLY8=", "$7$101$$QNuGLY8=", "$7$101$VY549STskAPeDwiu$",
        "plain-text-password"
    })
    void malformedHashesNeverVerify(String encoded) {
        assertFalse(MosquittoPasswordHash.verify("pass", encoded));
    }

    @Test
    void emptyPasswordsAreRefused() {
        assertFalse(MosquittoPasswordHash.verify("", MOSQUITTO_PASS));
        assertFalse(MosquittoPasswordHash.verify(null, MOSQUITTO_PASS));
        assertThrows(IllegalArgumentException.class, () -> MosquittoPasswordHash.hash(""));
    }
}
