package dev.weldr.tls;

import dev.weldr.config.TlsProvider;
import io.quarkus.runtime.ImageMode;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.DelegatingSslContext;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.StandardConstants;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;

/**
 * The server-side TLS settings of the HTTPS listener, one {@link SslContext} per certificate,
 * from the JDK's TLS or OpenSSL (BoringSSL) alike:
 * TLS 1.3 and 1.2 only, Mozilla's "intermediate" cipher suites (guidelines 5.7) in their order
 * with the server's order preferred, ALPN offering {@code h2} and {@code http/1.1}, and a session cache and
 * tickets kept for five minutes (nginx's {@code ssl_session_timeout}). A context holds its own
 * session cache, so a certificate keeps its context (and its sessions) while others change.
 */
public final class ServerContexts {

    static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    static final List<String> CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    static final long SESSION_TIMEOUT_SECONDS = 300;

    static {
        // The JDK's TLS accepts a renegotiation the client starts (TLS 1.2): one connection could
        // make the server do full handshakes one after another, past the connection cap (testssl.sh:
        // "Secure Client-Initiated Renegotiation", VULNERABLE). nginx, HAProxy and OpenSSL through
        // Netty refuse it. The JDK reads this once, at the first server handshake in the process,
        // which comes after this class is initialised (the refusing context is made at start-up).
        System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
    }
    private static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            // A client that offers only protocols weldr does not speak still gets HTTP/1.1, as nginx does.
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            // HTTP/2 first: the server's preference decides, as nginx's and HAProxy's do.
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
    /**
     * A TLS-ALPN-01 challenge's: {@code acme-tls/1} alone (RFC 8737 §3). Only a client that
     * offered it gets such a context, so the failure behaviours never come into play; they are
     * the ones both providers accept.
     */
    private static final ApplicationProtocolConfig ACME_ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            TlsAlpnChallenges.ACME_TLS_1);

    private ServerContexts() {
    }

    /**
     * The implementation this node serves certificates with. {@code auto} never picks OpenSSL
     * in a native executable: netty-tcnative's library is not part of its configuration.
     */
    static SslProvider provider(TlsProvider configured) {
        return switch (configured) {
            case JDK -> SslProvider.JDK;
            // Not OPENSSL_REFCNT: a replaced certificate's context is freed by the garbage collector, no release to forget.
            case OPENSSL -> SslProvider.OPENSSL;
            case AUTO -> ImageMode.current() != ImageMode.NATIVE_RUN && OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    /** The line start-up logs about the provider in use. */
    static String describe(TlsProvider configured, SslProvider provider) {
        String chosen = "weldr.tls.provider=" + configured.name().toLowerCase(Locale.ROOT);
        if (provider == SslProvider.OPENSSL) {
            return "TLS provider: OpenSSL (" + OpenSsl.versionString() + " through netty-tcnative; " + chosen + ")";
        }
        if (configured == TlsProvider.AUTO) {
            String why = ImageMode.current() == ImageMode.NATIVE_RUN ? "a native executable"
                    : "netty-tcnative does not load: " + firstLine(String.valueOf(OpenSsl.unavailabilityCause()));
            return "TLS provider: the JDK's (" + chosen + ", " + why + ")";
        }
        return "TLS provider: the JDK's (" + chosen + ")";
    }

    static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** The context that serves this certificate. */
    static SslContext of(CertificateBundle bundle, long handshakeTimeoutMs, SslProvider provider) throws SSLException {
        SslContext context = SslContextBuilder.forServer(bundle.key(), bundle.chain().toArray(new X509Certificate[0]))
                .sslProvider(provider)
                .protocols(PROTOCOLS)
                .ciphers(CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(ALPN)
                .sessionTimeout(SESSION_TIMEOUT_SECONDS)
                .build();
        return new Tuned(context, handshakeTimeoutMs, false);
    }

    /** The context that answers one TLS-ALPN-01 challenge: its self-signed certificate, the listener's TLS settings, {@code acme-tls/1} in ALPN. */
    static SslContext challenge(PrivateKey key, X509Certificate certificate, long handshakeTimeoutMs, SslProvider provider)
            throws SSLException {
        SslContext context = SslContextBuilder.forServer(key, certificate)
                .sslProvider(provider)
                .protocols(PROTOCOLS)
                .ciphers(CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(ACME_ALPN)
                .build();
        return new Tuned(context, handshakeTimeoutMs, false);
    }

    /**
     * The context for a client whose server name no certificate covers, with no default
     * certificate: it has no certificate at all, and refuses every server name, so that the
     * JDK answers the ClientHello with the {@code unrecognized_name} alert (a client that sends
     * no name gets {@code handshake_failure}), never with another site's certificate.
     */
    static SslContext refusing(long handshakeTimeoutMs) {
        try {
            SSLContext jdk = SSLContext.getInstance("TLS");
            jdk.init(new KeyManager[0], null, null);
            JdkSslContext context = new JdkSslContext(jdk, false, CIPHERS, SupportedCipherSuiteFilter.INSTANCE, ALPN,
                    ClientAuth.NONE, PROTOCOLS.toArray(new String[0]), false);
            return new Tuned(context, handshakeTimeoutMs, true);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK's TLS is not available", e);
        }
    }

    /** Sets on every engine and handler what {@link SslContextBuilder} has no option for. */
    private static final class Tuned extends DelegatingSslContext {

        private static final List<SNIMatcher> NO_NAME = List.of(new SNIMatcher(StandardConstants.SNI_HOST_NAME) {
            @Override
            public boolean matches(SNIServerName serverName) {
                return false;
            }
        });

        private final long handshakeTimeoutMs;
        private final boolean refuseNames;

        Tuned(SslContext context, long handshakeTimeoutMs, boolean refuseNames) {
            super(context);
            this.handshakeTimeoutMs = handshakeTimeoutMs;
            this.refuseNames = refuseNames;
        }

        @Override
        protected void initEngine(SSLEngine engine) {
            SSLParameters p = engine.getSSLParameters();
            p.setUseCipherSuitesOrder(true);
            if (refuseNames) {
                p.setSNIMatchers(NO_NAME);
            }
            engine.setSSLParameters(p);
        }

        @Override
        protected void initHandler(SslHandler handler) {
            super.initHandler(handler);
            handler.setHandshakeTimeoutMillis(handshakeTimeoutMs);
        }
    }
}
