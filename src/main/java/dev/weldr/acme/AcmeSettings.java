package dev.weldr.acme;

import dev.weldr.config.InvalidConfigException;
import dev.weldr.config.WeldrConfig;
import dev.weldr.pool.AcmeChallenge;
import dev.weldr.tls.BackendTrust;
import dev.weldr.tls.InvalidCertificateException;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code weldr.acme.*} settings, checked at start-up (one line and exit 1 for a bad one).
 *
 * @param trust the trust for the directory's HTTPS, or null for the JDK's
 */
public record AcmeSettings(URI directory, String email, boolean agreeTos, SSLContext trust, String challenge,
                           double renewalWindowRatio, Duration retryBackoff) {

    private static final Pattern EMAIL = Pattern.compile("[^@\\s,<>]+@[^@\\s,<>]+\\.[^@\\s,<>]+");

    public static AcmeSettings of(WeldrConfig.Acme acme) {
        URI directory = null;
        if (acme.directory().isPresent()) {
            String d = acme.directory().get();
            try {
                directory = new URI(d);
            } catch (URISyntaxException e) {
                throw new InvalidConfigException("weldr.acme.directory", "is not a URL: " + d);
            }
            // RFC 8555 §6.1: ACME runs over HTTPS only.
            if (!"https".equals(directory.getScheme()) || directory.getHost() == null) {
                throw new InvalidConfigException("weldr.acme.directory", "must be an https:// URL, not " + d);
            }
        }
        String email = acme.email().orElse(null);
        if (email != null && !EMAIL.matcher(email).matches()) {
            throw new InvalidConfigException("weldr.acme.email", "is not an e-mail address: " + email);
        }
        String challenge = acme.challenge();
        if (!challenge.equals(AcmeChallenge.HTTP_01) && !challenge.equals(AcmeChallenge.TLS_ALPN_01)) {
            throw new InvalidConfigException("weldr.acme.challenge", "must be http-01 or tls-alpn-01, not " + challenge
                    + " (dns-01, which wildcards need, is not supported)");
        }
        double ratio = acme.renewalWindowRatio();
        if (!(ratio > 0 && ratio < 1)) {
            throw new InvalidConfigException("weldr.acme.renewal-window-ratio",
                    "must be above 0 and below 1 (the share of the lifetime left at renewal), not " + ratio);
        }
        if (acme.retryBackoff().isNegative() || acme.retryBackoff().toMillis() < 100) {
            throw new InvalidConfigException("weldr.acme.retry-backoff", "must be at least 100ms, not " + acme.retryBackoff());
        }
        SSLContext trust = acme.caBundle().map(AcmeSettings::trust).orElse(null);
        return new AcmeSettings(directory, email, acme.agreeTos(), trust, challenge, ratio, acme.retryBackoff());
    }

    /** Why this node cannot order certificates, or null when it can. */
    public String unusable() {
        if (directory == null) {
            return "weldr.acme.directory is not set";
        }
        if (!agreeTos) {
            return "weldr.acme.agree-tos is not true (the CA's terms of service must be agreed to)";
        }
        return null;
    }

    private static SSLContext trust(String file) {
        String pem;
        try {
            pem = Files.readString(Path.of(file));
        } catch (IOException e) {
            throw new InvalidConfigException("weldr.acme.ca-bundle", "cannot be read: " + file + " (" + e.getMessage() + ")");
        }
        try {
            List<X509Certificate> cas = BackendTrust.caBundle(pem);
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                store.setCertificateEntry("ca" + i, cas.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (InvalidCertificateException e) {
            throw new InvalidConfigException("weldr.acme.ca-bundle", file + ": " + e.getMessage());
        } catch (GeneralSecurityException | IOException e) {
            throw new InvalidConfigException("weldr.acme.ca-bundle", file + ": " + e.getMessage());
        }
    }
}
