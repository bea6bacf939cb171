package io.edgefleet.agent.mqtt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS to the broker trusting only the CA certificates in one PEM file (the operator's own CA), not the
 * JVM's public CA list: a broker certificate from any other issuer is refused. Host names are checked
 * by Paho against the certificate as usual.
 */
public final class PinnedCa {
    private PinnedCa() {
    }

    public static SSLSocketFactory socketFactory(Path pemFile) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, trustManagerFactory(pemFile).getTrustManagers(), null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use " + pemFile + " as the broker CA: " + e.getMessage(), e);
        }
    }

    /** The trust managers behind {@link #socketFactory}: only the CA(s) in the PEM file. */
    public static TrustManagerFactory trustManagerFactory(Path pemFile) {
        try (InputStream in = Files.newInputStream(pemFile)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new IllegalArgumentException(pemFile + " holds no X.509 certificate");
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                trust.setCertificateEntry("edgefleet-ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            return tmf;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use " + pemFile + " as the broker CA: " + e.getMessage(), e);
        }
    }
}
