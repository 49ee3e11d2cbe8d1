package dev.weldr.acme;

import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.provider.GenericAcmeProvider;

import javax.net.ssl.SSLContext;
import java.net.http.HttpClient;

/**
 * acme4j's provider for any directory URL, with the HTTP client trusting {@code weldr.acme.ca-bundle}
 * instead of the JDK's trust store when it is set.
 */
final class TrustingProvider extends GenericAcmeProvider {

    private final SSLContext trust;

    TrustingProvider(SSLContext trust) {
        this.trust = trust;
    }

    @Override
    public HttpClient createHttpClient(NetworkSettings settings) {
        HttpClient.Builder builder = HttpClient.newBuilder()
                .connectTimeout(settings.getTimeout())
                .followRedirects(HttpClient.Redirect.NORMAL);
        if (trust != null) {
            builder.sslContext(trust);
        }
        return builder.build();
    }
}
