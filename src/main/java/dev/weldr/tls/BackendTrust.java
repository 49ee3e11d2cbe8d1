package dev.weldr.tls;

import dev.weldr.pool.BackendTls;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What weldr trusts when it talks TLS to a pool's {@code https://} servers: the JDK's trust store
 * plus the pool's own CA bundle, with the host name checked (RFC 6125, as browsers and nginx with
 * {@code proxy_ssl_verify on} do), or nothing checked when the pool says {@code verify: false}.
 */
public final class BackendTrust {

    /** More than any private PKI hands out; the admin body limit (64 KiB) holds about a hundred. */
    public static final int MAX_CA = 200;

    private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");

    /** One certificate of a pool's CA bundle as the API shows it. */
    public record CaInfo(String subject, Instant notAfter, String fingerprint) {
    }

    private BackendTrust() {
    }

    /** The certificates of a CA bundle; fails, naming the problem, when it holds none or is not PEM. */
    public static List<X509Certificate> caBundle(String pem) throws InvalidCertificateException {
        return Pem.certificates(pem, "tls.ca", MAX_CA, ": a CA bundle holds certificates only");
    }

    /** What the API shows of a stored bundle (validated when it was set). */
    public static List<CaInfo> describe(String pem) {
        List<CaInfo> out = new ArrayList<>();
        try {
            for (X509Certificate c : caBundle(pem)) {
                out.add(new CaInfo(c.getSubjectX500Principal().getName(), c.getNotAfter().toInstant(), fingerprint(c)));
            }
        } catch (InvalidCertificateException e) {
            throw new IllegalStateException("a stored CA bundle no longer parses", e);
        }
        return out;
    }

    /**
     * Why {@code name} cannot be a server name to send and check, or null: a DNS name (one label
     * or more, so that an internal {@code backend} works; underscores as Docker names have them).
     */
    public static String serverNameProblem(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.isEmpty() || n.length() > 253 || isAddressLiteral(n)) {
            return "must be a DNS name such as api.internal";
        }
        for (String label : n.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                return "must be a DNS name such as api.internal";
            }
        }
        return null;
    }

    /** The name the certificate is checked against: the pool's server name, else the URL's host. */
    public static String peerName(BackendTls tls, String host) {
        return tls.serverName() != null ? tls.serverName() : host;
    }

    /** RFC 6066 §3: SNI carries a host name, never an address literal. */
    public static boolean sendsSni(String peerName) {
        return !isAddressLiteral(peerName);
    }

    static boolean isAddressLiteral(String host) {
        return host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
    }

    /** The trust of a pool: the JDK's store and the pool's bundle, or anything when verification is off. */
    public static TrustManagerFactory trust(BackendTls tls) throws GeneralSecurityException {
        if (!tls.verify()) {
            return InsecureTrustManagerFactory.INSTANCE;
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (tls.ca() == null) {
            tmf.init((KeyStore) null);
            return tmf;
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
        int i = 0;
        for (X509Certificate c : SystemAnchors.ALL) {
            store.setCertificateEntry("system-" + i++, c);
        }
        try {
            for (X509Certificate c : caBundle(tls.ca())) {
                store.setCertificateEntry("pool-" + i++, c);
            }
        } catch (InvalidCertificateException e) {
            throw new GeneralSecurityException(e.getMessage());
        }
        tmf.init(store);
        return tmf;
    }

    /**
     * The proxy's client context for a pool's TLS setting: one per distinct setting, shared by
     * every connection and event loop that uses it (an {@link SslContext} is thread-safe), so
     * the trust store is read once per change, never per connection. Host names are checked by
     * the engine (HTTPS endpoint identification) against the name each connection is opened for.
     */
    public static SslContext clientContext(BackendTls tls) throws SSLException {
        return clientContext(tls, false);
    }

    /** {@code h2}: the context offers h2 alone in ALPN (a pool of protocol h2); none is offered otherwise. */
    public static SslContext clientContext(BackendTls tls, boolean h2) throws SSLException {
        try {
            SslContextBuilder builder = SslContextBuilder.forClient()
                    .trustManager(trust(tls))
                    .endpointIdentificationAlgorithm(tls.verify() ? "HTTPS" : null);
            if (h2) {
                builder.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2));
            }
            return builder.build();
        } catch (GeneralSecurityException e) {
            throw new SSLException("cannot build the backend trust store: " + e.getMessage(), e);
        }
    }

    /**
     * Why a TLS connection to a backend failed, for the logs and the health checks: a certificate
     * that did not verify is named as such, whatever layer reported it.
     */
    public static String reason(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof CertificateException || t instanceof CertPathBuilderException
                    || t instanceof CertPathValidatorException) {
                return "certificate verification failed: " + t.getMessage();
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SSLHandshakeException) {
                return "TLS handshake failed: " + t.getMessage();
            }
        }
        return null;
    }

    /** True when the failure is a certificate the pool's trust refused. */
    public static boolean isVerificationFailure(Throwable failure) {
        String r = reason(failure);
        return r != null && r.startsWith("certificate");
    }

    private static String fingerprint(X509Certificate c) {
        try {
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The JDK's trust anchors, read once: a pool's bundle is added to them, not put in their place. */
    private static final class SystemAnchors {
        static final List<X509Certificate> ALL = load();

        private static List<X509Certificate> load() {
            try {
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init((KeyStore) null);
                for (javax.net.ssl.TrustManager tm : tmf.getTrustManagers()) {
                    if (tm instanceof X509TrustManager x) {
                        return List.of(x.getAcceptedIssuers());
                    }
                }
                return List.of();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the JDK's trust store cannot be read", e);
            }
        }
    }
}
