package dev.weldr.acme;

import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;

/**
 * acme4j as a test's own ACME client: a {@link Session} whose HTTPS trusts only the given PEM
 * (Pebble's {@link Pebble#trustFile()}), without a proxy, so it can reach nothing but the CA
 * under test.
 */
public final class AcmeTestClient {

    private AcmeTestClient() {
    }

    /** A session on {@code directory} trusting only the CA certificates in {@code trustPem}. */
    public static Session session(URI directory, Path trustPem) {
        try {
            return new Session(directory, new TrustingProvider(trusting(Files.readString(trustPem))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A TLS context that trusts the CA certificates of {@code pem} and nothing else. */
    public static SSLContext trusting(String pem) {
        try {
            Collection<? extends Certificate> cas = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            if (cas.isEmpty()) {
                throw new IllegalArgumentException("no certificate in the PEM");
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate c : cas) {
                store.setCertificateEntry("ca" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** acme4j's provider for any https directory, with an HTTP client of our TLS context instead of the JDK's trust store. */
    static final class TrustingProvider extends GenericAcmeProvider {
        private final SSLContext context;

        TrustingProvider(SSLContext context) {
            this.context = context;
        }

        @Override
        public HttpClient createHttpClient(NetworkSettings settings) {
            return HttpClient.newBuilder()
                    .followRedirects(HttpClient.Redirect.NORMAL)
                    .connectTimeout(settings.getTimeout())
                    .proxy(HttpClient.Builder.NO_PROXY)
                    .sslContext(context)
                    .build();
        }
    }
}
